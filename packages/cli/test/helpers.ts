// Shared tiny configuration for cli tests: img 16, patch 4, D 32, depth 1, batch 8.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { TrainOptions } from "../src/train.js";

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/bin.js");

export const TINY: TrainOptions = {
  data: "shapes:n=256,val=64", model: "micro32", imgSize: 16, patch: 4, embedDim: 32, depth: 1, heads: 2,
  headHidden: 32, headOut: 16, batch: 8, steps: 6, lr: 1e-3, warmup: 1, seed: 3, engine: "cpu", quiet: true,
  knnBank: 32, knnQueries: 16, workers: 0, evalEvery: 1000, ckptEvery: 2, tokenDrop: 0.75,
};

/** TINY as command-line flags (for child processes). */
export function tinyArgs(extra: Record<string, string | number> = {}): string[] {
  const o: Record<string, unknown> = { ...TINY, ...extra };
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (v === true) out.push(flag);
    else if (v !== false && v !== undefined) out.push(flag, String(v));
  }
  return out;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dilemma-cli-${prefix}-`));
}

export function readJsonl(file: string): Record<string, number | string>[] {
  return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
