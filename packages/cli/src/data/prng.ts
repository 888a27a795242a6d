/**
 * Counter-based hashing PRNG: every random number is a pure function of its key
 * (seed, step, sample, view, counter), so results never depend on worker scheduling.
 */

/** 32-bit integer finaliser (lowbias32 by Chris Wellons): good avalanche, cheap. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** Hashes a list of integers (any sign, up to 2^53) into one 32-bit value. */
export function hashKey(...keys: number[]): number {
  let h = 0x9e3779b9;
  for (const k of keys) {
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    h = mix32(h ^ mix32(lo + 0x7f4a7c15));
    h = mix32(h ^ mix32(hi + 0x3c6ef372));
  }
  return h;
}

/** A stream of uniform numbers derived from a key; `next()` hashes (key, counter++). */
export class Rng {
  private readonly key: number;
  private counter = 0;

  constructor(...keys: number[]) {
    this.key = hashKey(...keys);
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    return mix32(this.key ^ mix32(this.counter++ * 0x9e3779b1 + 0x6a09e667));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** Deterministic Fisher–Yates permutation of 0..n-1 for a key. */
export function permutation(n: number, ...keys: number[]): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = new Rng(...keys);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
