// The op codes JS passes to the addon are typed in TypeScript (src/cuda/addon.ts for the gpu
// entries, src/kernels/*.ts for the CPU engine) and again as C++ enums beside each kernel. This
// reads the enums from csrc and checks every copy against the TypeScript table (no addon needed).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACT, BINARY, REDUCE, UNARY } from "../src/cuda/addon.js";
import { BINARY_OPS } from "../src/kernels/binary.js";
import { REDUCE_OPS } from "../src/kernels/reduce.js";
import { UNARY_OPS } from "../src/kernels/unary.js";

/** `enum name { kA = 0, ... }` of a csrc file as { A: 0, ... } (`prefix` stripped from each name). */
function cEnum(file: string, name: string, prefix = "k"): Record<string, number> {
  const src = readFileSync(new URL(`../csrc/${file}`, import.meta.url), "utf8");
  const body = new RegExp(`enum\\s+${name}(?:\\s*:\\s*\\w+)?\\s*\\{([^}]*)\\}`).exec(src)?.[1];
  if (body === undefined) throw new Error(`enum ${name} not found in csrc/${file}`);
  const out: Record<string, number> = {};
  for (const m of body.matchAll(new RegExp(`${prefix}(\\w+)\\s*=\\s*(\\d+)`, "g"))) out[m[1]] = Number(m[2]);
  return out;
}

/** The C++ spelling of a gpu table name where it differs. */
const CPP_NAME: Record<string, string> = { SquaredDifference: "SqDiff" };
const inCpp = (table: Record<string, number>) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [CPP_NAME[k] ?? k, v]));
/** `table` restricted to `names`. */
const pick = (table: Record<string, number>, names: string[]) => Object.fromEntries(names.map((n) => [n, table[n]]));

describe("op codes: C++ enums equal the TypeScript tables", () => {
  it("gpu unary, binary and reduce (cuda/ops .cc host references and .cu kernels)", () => {
    for (const file of ["cuda/ops/elementwise.cc", "cuda/ops/elementwise.cu"]) {
      expect(cEnum(file, "Unary"), file).toEqual(UNARY);
      expect(cEnum(file, "Binary"), file).toEqual(inCpp(BINARY));
    }
    for (const file of ["cuda/ops/reduce.cc", "cuda/ops/reduce.cu"]) expect(cEnum(file, "ReduceOp"), file).toEqual(REDUCE);
  });

  it("matMul activations (CPU engine and cuda)", () => {
    const lower = (t: Record<string, number>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k.toLowerCase(), v]));
    expect(lower(cEnum("engine/matmul.cc", "Act"))).toEqual(ACT);
    expect(lower(cEnum("cuda/ops/matmul_cuda.h", "MatMulAct", "kAct"))).toEqual(ACT);
  });

  it("CPU engine unary, binary and reduce", () => {
    expect(cEnum("engine/unary.cc", "UnOp")).toEqual(UNARY_OPS);
    const bin = cEnum("engine/binary.cc", "BinOp");
    expect(bin).toEqual(pick(inCpp(BINARY), Object.keys(bin)));
    expect(Object.values(BINARY_OPS).sort()).toEqual(Object.values(bin).sort());
    expect(cEnum("engine/reduce.cc", "RedOp")).toEqual(pick(REDUCE_OPS, ["Sum", "Max", "Min"]));
  });
});
