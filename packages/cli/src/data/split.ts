import { hashKey } from "./prng.js";
import type { Split } from "./types.js";

/**
 * Assigns item `key` to a split by a fixed hash (independent of the training seed), so the held-out
 * sets stay the same across runs and seeds: a fraction `val` goes to val, `test` to test.
 */
export function heldOutSplit(key: number, val: number, test: number): Split {
  const u = hashKey(0x5e1d, key) / 4294967296;
  if (u < val) return "val";
  if (u < val + test) return "test";
  return "train";
}

/** Hashes a string (e.g. a relative path) to a 32-bit integer (FNV-1a). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
