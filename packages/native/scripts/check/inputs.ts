// Random kernel inputs: pools of values tiled into arrays of any size (generating tens of
// millions of values per input in JS would cost more than the kernels being checked).

export type PoolKind = "normal" | "pos" | "unit" | "grid" | "int" | "bool" | "near1";
/** A kernel input on the host: float32, or int32 (also bool, stored as 0/1). */
export type HostArray = Float32Array | Int32Array;
export type Rand = (kind: PoolKind, n: number, scale?: number) => HostArray;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED: Record<PoolKind, number> = { normal: 1, pos: 2, unit: 3, grid: 4, int: 5, bool: 6, near1: 7 };
const isInt = (kind: PoolKind): boolean => kind === "int" || kind === "bool";

function fillPool(kind: PoolKind, size: number): HostArray {
  const r = mulberry32(SEED[kind]);
  const p = isInt(kind) ? new Int32Array(size + 7) : new Float32Array(size + 7); // +7: not a multiple of any shape
  for (let i = 0; i < p.length; i++) {
    const u = r();
    switch (kind) {
      case "normal": p[i] = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * r()); break;
      case "pos": p[i] = 0.05 + 3 * u; break; // log / sqrt / rsqrt / reciprocal domain
      case "unit": p[i] = u; break;
      case "near1": p[i] = 0.75 + 0.5 * u; break; // products of a few stay O(1)
      case "grid": p[i] = Math.round((u - 0.5) * 8) / 2; break; // many exact ties for comparisons
      case "int": p[i] = Math.floor((u - 0.5) * 2000); break;
      case "bool": p[i] = u < 0.5 ? 1 : 0; break;
    }
  }
  return p;
}

/**
 * A generator of host arrays of `n` values of a kind, tiled from a pool of `poolSize` at an
 * offset that rotates with every call (so two inputs of one case differ).
 */
export function makeRand(poolSize: number): Rand {
  const pools = new Map<PoolKind, HostArray>();
  let offset = 0;
  return (kind, n, scale = 1) => {
    let p = pools.get(kind);
    if (!p) pools.set(kind, (p = fillPool(kind, poolSize)));
    const out = isInt(kind) ? new Int32Array(n) : new Float32Array(n);
    let off = (offset = (offset + 1237) % poolSize);
    for (let i = 0; i < n;) {
      const len = Math.min(n - i, p.length - off);
      out.set(p.subarray(off, off + len), i);
      i += len;
      off = 0;
    }
    if (scale !== 1) for (let i = 0; i < n; i++) out[i] *= scale;
    return out;
  };
}

export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / Math.max(1, a.length));
}
