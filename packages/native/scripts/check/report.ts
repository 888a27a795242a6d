// The run's log and results: cuda-check.log and cuda-check.json under $OUT, rewritten after
// every section so that a run cut short keeps what it measured; in a child process, the file
// the parent merges (written as it goes, so a crash leaves the progress).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Options } from "./options.js";

export type Json = Record<string, unknown>;

/** What the sections fill in, merged over child processes. */
export const state = {
  kernelResults: [] as Json[],
  parityResults: {} as Record<string, Json & { ok: boolean }>,
  thrResults: [] as Json[],
  torch: null as Json | null,
  /** Child-only progress for the parent (kernels: count, current case, where to go on). */
  child: {} as Json,
};

export const result: Json & { sections: Record<string, Json>; failures: string[]; deviceName?: string | null } = {
  date: new Date().toISOString(), sections: {}, failures: [],
};

const lines: string[] = [];
let opts: Options;
const tStart = performance.now();
export const elapsed = (): number => (performance.now() - tStart) / 1000;

export function initReport(o: Options): void {
  opts = o;
  Object.assign(result, { device: o.device, quick: o.quick, argv: o.argv });
}

export function log(s = ""): void {
  console.log(s);
  lines.push(s);
}

// JSON has no Infinity / NaN: write them as strings.
const finite = (_k: string, v: unknown): unknown => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v);

export function save(): void {
  const out = process.env.OUT;
  if (!out || opts.child) return;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "cuda-check.log"), lines.join("\n") + "\n");
  writeFileSync(join(out, "cuda-check.json"), JSON.stringify(result, finite, 1) + "\n");
}

export function writeChildOut(extra: Json = {}): void {
  if (!opts.childOut) return;
  const { kernelResults, parityResults, thrResults } = state;
  writeFileSync(opts.childOut, JSON.stringify({ sections: result.sections, failures: result.failures, deviceName: result.deviceName,
    kernelResults, parityResults, thrResults, ...state.child, ...extra }, finite));
}

export function finishChild(code: number, extra: Json = {}): never {
  writeChildOut(extra);
  process.exit(code);
}

/** Exit: 0 every correctness check passed, 1 a kernel, embed-atomic or the step parity failed, 2 no device. */
export function finish(code: number): never {
  if (opts.child) finishChild(code);
  result.exitCode = code;
  result.seconds = elapsed();
  save();
  if (process.env.OUT) console.log(`logs: ${join(process.env.OUT, "cuda-check.log")}, ${join(process.env.OUT, "cuda-check.json")}`);
  process.exit(code);
}

export const pad = (v: unknown, n: number): string => String(v).padStart(n);
export const fx = (v: number | null | undefined, d: number): string => (v === null || v === undefined || Number.isNaN(v) ? "-" : v.toFixed(d));
export const ex = (v: number | null | undefined, d = 1): string => (v === null || v === undefined || Number.isNaN(v) ? "-" : v.toExponential(d));
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Runs one section with a time budget; an exception fails the section, not the check. */
export async function section(name: string, budgetS: number, fn: (budget: number, t0: number) => Promise<Json>): Promise<Json | null> {
  if (!opts.sections.includes(name)) return null;
  const left = opts.budget - elapsed();
  if (left < 5) {
    log(`\n== ${name}: SKIPPED (total budget of ${opts.budget} s spent)`);
    result.sections[name] = { skipped: "total budget spent" };
    save();
    return null;
  }
  const budget = Math.min(budgetS, left);
  log(`\n== ${name} (budget ${budget.toFixed(0)} s, ${elapsed().toFixed(0)} s elapsed)`);
  const t0 = performance.now();
  let out: Json;
  try {
    out = await fn(budget, t0);
  } catch (e) {
    log(`${name}: ERROR ${e instanceof Error && e.stack ? e.stack : String(e)}`);
    result.failures.push(`${name}: ${message(e)}`);
    out = { error: message(e) };
  }
  const s = (performance.now() - t0) / 1000;
  log(`== ${name}: ${s.toFixed(1)} s`);
  result.sections[name] = { seconds: s, ...out };
  save();
  return out;
}
