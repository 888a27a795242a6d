// Philox4x32-10 (Salmon et al., SC'11), exactly as docs/sampling.md: the one RNG every engine
// (core, native C++, CUDA) implements so that a seed gives the same draw everywhere.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High and low 32 bits of the 64-bit product of two uint32 (16-bit limbs keep it exact). */
function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const ll = aLo * bLo;
  const lh = aLo * bHi;
  const hl = aHi * bLo;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aHi * bHi + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 block: counter (c0..c3) and key (k0, k1), all uint32, to four uint32 words.
 * Writes into `out` (length >= 4) to avoid allocation in hot loops.
 */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  c0 >>>= 0; c1 >>>= 0; c2 >>>= 0; c3 >>>= 0; k0 >>>= 0; k1 >>>= 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    if (r < 9) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
  return out;
}

/** Uniform in [0, 1) from one word: `(word >>> 8) * 2^-24` (exact in float32 and float64). */
export function wordToUniform(word: number): number {
  return (word >>> 8) * 5.9604644775390625e-8;
}

/** Splits a seed (non-negative integer up to 2^53) into the Philox key (low, high words). */
export function seedToKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`seed must be a non-negative safe integer, got ${seed}`);
  }
  return [seed % 0x100000000 >>> 0, Math.floor(seed / 0x100000000) >>> 0];
}

/**
 * `n` uniforms for row `row` of stream `stream` at `step`: element j is word j % 4 of
 * philox((floor(j / 4), row, step, stream), key), as docs/sampling.md defines noise (stream 0)
 * and labelRand (stream 1).
 */
export function philoxUniforms(seed: number, step: number, stream: number, row: number, n: number, out?: Float64Array): Float64Array {
  const [k0, k1] = seedToKey(seed);
  const res = out ?? new Float64Array(n);
  const words = new Uint32Array(4);
  for (let j = 0; j < n; j += 4) {
    philox4x32(j / 4, row, step, stream, k0, k1, words);
    for (let w = 0; w < 4 && j + w < n; w++) res[j + w] = wordToUniform(words[w]);
  }
  return res;
}
