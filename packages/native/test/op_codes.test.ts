// The op codes JS passes to the addon are typed once in TypeScript (src/cuda/addon.ts; the CPU
// engine's tables in src/kernels/*.ts pick from it) and once in C++ (the X-macro lists of
// csrc/op_codes.h, which every C++ enum of these codes expands). This reads the lists from the
// header and checks them against the TypeScript tables (no addon needed), and checks that no
// csrc file numbers these ops by hand.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ACT, BINARY, REDUCE, UNARY, cppOpCodes, opCodeMismatch } from "../src/cuda/addon.js";
import { BINARY_OPS } from "../src/kernels/binary.js";
import { REDUCE_OPS } from "../src/kernels/reduce.js";
import { UNARY_OPS } from "../src/kernels/unary.js";

const csrc = fileURLToPath(new URL("../csrc/", import.meta.url));
const read = (file: string) => readFileSync(join(csrc, file), "utf8");

/** The X(Name, code) entries of `#define <macro>(X)` in csrc/op_codes.h, as { Name: code }. */
function xList(macro: string): Record<string, number> {
  const src = read("op_codes.h").replace(/\\\n/g, " ");
  const body = new RegExp(`#define\\s+${macro}\\(X\\)([^\\n]*)`).exec(src)?.[1];
  if (body === undefined) throw new Error(`#define ${macro}(X) not found in csrc/op_codes.h`);
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/X\(\s*(\w+)\s*,\s*(\d+)\s*\)/g)) out[m[1]] = Number(m[2]);
  return out;
}

/** The body of `enum name { ... }` in a csrc file. */
function enumBody(file: string, name: string): string {
  const body = new RegExp(`enum\\s+${name}(?:\\s*:\\s*\\w+)?\\s*\\{([^}]*)\\}`).exec(read(file))?.[1];
  if (body === undefined) throw new Error(`enum ${name} not found in csrc/${file}`);
  return body.trim();
}

/** The C++ spelling of a gpu table name where it differs. */
const CPP_NAME: Record<string, string> = { SquaredDifference: "SqDiff" };
const inCpp = (table: Record<string, number>) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [CPP_NAME[k] ?? k, v]));
const lower = (t: Record<string, number>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k.toLowerCase(), v]));
const header = () => ({
  unary: xList("DILEMMA_UNARY_OPS"), binary: xList("DILEMMA_BINARY_OPS"),
  reduce: xList("DILEMMA_REDUCE_OPS"), act: xList("DILEMMA_ACT_OPS"),
});

describe("op codes: csrc/op_codes.h equals the TypeScript tables", () => {
  it("unary, binary, reduce and matMul activation lists", () => {
    expect(xList("DILEMMA_UNARY_OPS")).toEqual(UNARY);
    expect(xList("DILEMMA_BINARY_OPS")).toEqual(inCpp(BINARY));
    expect(xList("DILEMMA_REDUCE_OPS")).toEqual(REDUCE);
    expect(lower(xList("DILEMMA_ACT_OPS"))).toEqual(ACT);
    // the load-time check of an addon's exported lists (src/addon.ts) accepts the header's lists
    expect(header()).toEqual(cppOpCodes());
    expect(opCodeMismatch(header())).toBeNull();
  });

  it("the load-time check names a difference", () => {
    const stale = header();
    stale.reduce = { ...stale.reduce, Max: 1 };
    expect(opCodeMismatch(stale)).toMatch(/reduce Max: the addon has 1, this package 2/);
    const extra = header();
    extra.unary = { ...extra.unary, Gelu: 99 };
    expect(opCodeMismatch(extra)).toMatch(/unary Gelu/);
    expect(opCodeMismatch(undefined)).toMatch(/no op-code tables/);
  });

  it("every C++ enum of these codes expands a list of op_codes.h", () => {
    const uses: [string, string, string][] = [
      ["cuda/ops/elementwise.cc", "Unary", "DILEMMA_UNARY_OPS"], ["cuda/ops/elementwise.cc", "Binary", "DILEMMA_BINARY_OPS"],
      ["cuda/ops/elementwise.cu", "Unary", "DILEMMA_UNARY_OPS"], ["cuda/ops/elementwise.cu", "Binary", "DILEMMA_BINARY_OPS"],
      ["cuda/ops/reduce.cc", "ReduceOp", "DILEMMA_REDUCE_OPS"], ["cuda/ops/reduce.cu", "ReduceOp", "DILEMMA_REDUCE_OPS"],
      ["ref/matmul_epilogue.h", "MatMulAct", "DILEMMA_ACT_OPS"],
      ["engine/unary.cc", "UnOp", "DILEMMA_UNARY_OPS"], ["engine/binary.cc", "BinOp", "DILEMMA_BINARY_OPS"],
      ["engine/reduce.cc", "RedOp", "DILEMMA_REDUCE_OPS"],
    ];
    for (const [file, name, list] of uses) {
      expect(enumBody(file, name), `${file} enum ${name}`).toMatch(new RegExp(`^${list}\\(DILEMMA_(OP|ACT)_ENUMERATOR\\)$`));
    }
    // and no file numbers one of these ops by hand (`kExp = 1`, `kActRelu = 1`)
    const names = new Set(Object.values(header()).flatMap((t) => Object.keys(t)));
    const handTyped = /\bk(?:Act)?(\w+)\s*=\s*\d+/g;
    const walk = (dir: string): string[] => readdirSync(join(csrc, dir), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    for (const file of walk(".").filter((f) => /\.(cc|cu|h)$/.test(f))) {
      const typed = [...read(file).matchAll(handTyped)].map((m) => m[1]).filter((n) => names.has(n));
      expect(typed, `csrc/${file} numbers ops by hand`).toEqual([]);
    }
  });

  it("the CPU engine's tables pick their codes from the shared tables", () => {
    for (const [name, code] of Object.entries(UNARY_OPS)) expect(code, name).toBe(UNARY[name as keyof typeof UNARY]);
    for (const code of Object.values(BINARY_OPS)) expect(Object.values(BINARY)).toContain(code);
    expect(REDUCE_OPS).toEqual({ Sum: REDUCE.Sum, Max: REDUCE.Max, Min: REDUCE.Min, Mean: REDUCE.Sum });
  });
});
