// Seeded test inputs shared by the kernel tests: a 31-bit LCG, so every file's inputs are the
// same from run to run and machine to machine.

/** Uniform draws in [0, 1] from `seed` (each call advances the generator). */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** `rand(n, scale)`: n floats uniform in [-scale, scale], drawn from `seed`. */
export function seededRand(seed: number): (n: number, scale?: number) => Float32Array {
  const next = lcg(seed);
  return (n, scale = 1) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
    return out;
  };
}
