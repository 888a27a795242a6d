// Shared helpers of the DILEMMA tests: addon availability (skip with a printed reason), seeded data.
import { addonLoadError } from "../../src/addon.js";
import { hasDilemmaKernels } from "../../src/dilemma/index.js";

/** True when the addon with the DILEMMA kernels is built; otherwise prints why the suite is skipped. */
export function dilemmaKernelsOrSkip(suite: string): boolean {
  const ok = hasDilemmaKernels();
  if (!ok) {
    console.warn(`[${suite}] SKIPPED: native DILEMMA kernels unavailable (${addonLoadError() ?? "addon built without csrc/dilemma"}); build with \`npm run build:addon -w @dilemma/native\``);
  }
  return ok;
}

/** Deterministic floats in [-1, 1) (xorshift32), with some exact zeros and negative zeros mixed in. */
export function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s / 2 ** 31) - 1;
  }
  return out;
}

/** Index of the first element where a and b differ (=== semantics), or -1. */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Plain loops, the same arithmetic and order as core's CPU kernels (docs/ops.md). */
export function refForward(tok: Float32Array, pos: Float32Array, rp: Int32Array, ip: Int32Array, B: number, L: number, K: number, D: number): Float32Array {
  const out = new Float32Array(B * K * D);
  for (let n = 0; n < B * K; n++) {
    const t = (Math.floor(n / K) * L + rp[n]) * D, p = ip[n] * D;
    for (let d = 0; d < D; d++) out[n * D + d] = tok[t + d] + pos[p + d];
  }
  return out;
}
export function refBackward(dy: Float32Array, rp: Int32Array, ip: Int32Array, B: number, L: number, K: number, D: number): Float32Array[] {
  const dTok = new Float32Array(B * L * D), dPos = new Float32Array(L * D);
  for (let n = 0; n < B * K; n++) {
    const t = (Math.floor(n / K) * L + rp[n]) * D, p = ip[n] * D;
    for (let d = 0; d < D; d++) {
      dTok[t + d] += dy[n * D + d];
      dPos[p + d] += dy[n * D + d];
    }
  }
  return [dTok, dPos];
}
