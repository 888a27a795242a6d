// gpu.geluErf / geluErfGrad on host buffers (the CPU reference the CUDA kernels are checked
// against on a GPU) against core's GeluErf / GeluErfGrad cpu kernels (double erf, ~1e-15): equal
// to within one float32 rounding, or 1e-14 absolute in the far negative tail, where core's
// 1 + erf(x) cancels and the reference (erfc) does not. n = 0, tails, NaN / inf; errors.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { type GpuAddon } from "../../src/cuda/addon.js";
import { hostBuffers, onTfjsCpu } from "./host_buffers.js";
import { geluErf, geluErfGrad } from "@dilemma/core";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.geluErf === "function" && typeof gpu?.alloc === "function";
if (!ready) console.warn(`[cuda tests] gpu.geluErf unavailable, skipped: ${loadError() ?? "not in this addon"}`);

const rnd = lcg(99);
const randF = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());

const { put, alloc, getF: get, freeAll } = hostBuffers(() => gpu!);
function close(want: ArrayLike<number>, got: ArrayLike<number>, what: string, rtol = 1.2e-7, atol = 1e-14): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (!(Number.isNaN(w) && Number.isNaN(g))) expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
    } else if (!(w === g || Math.abs(w - g) <= atol + rtol * Math.abs(w))) {
      expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
    }
  }
}

const SPECIAL = Float32Array.from([0, -0, 1, -1, 0.5, -0.5, 3, -3, 5.5, -5.5, 8, -8, 10, -10, 30, -30, 1e-20, -1e-20, Infinity, -Infinity, NaN]);

describe.skipIf(!ready)("gpu.geluErf / geluErfGrad (host) vs core's cpu kernels", () => {
  onTfjsCpu(freeAll);

  const inputs = () => [SPECIAL, randF(4099, -6, 6), randF(3, -1, 1), new Float32Array(0)];

  it("geluErf", () => {
    for (const x of inputs()) {
      const n = x.length;
      const ix = put(x), io = alloc(n);
      gpu!.geluErf(ix, io, n);
      const want = tf.tidy(() => geluErf(tf.tensor1d(x)).dataSync());
      close(Array.from(want), get(io, n), `geluErf n=${n}`);
    }
  });

  it("geluErfGrad", () => {
    for (const x of inputs()) {
      const n = x.length;
      const dy = randF(n, -2, 2);
      const idy = put(dy), ix = put(x), io = alloc(n);
      gpu!.geluErfGrad(idy, ix, io, n);
      const want = tf.tidy(() => geluErfGrad(tf.tensor1d(dy), tf.tensor1d(x)).dataSync());
      close(Array.from(want), get(io, n), `geluErfGrad n=${n}`);
    }
  });

  it("argument errors", () => {
    const small = alloc(3), big = alloc(16);
    expect(() => gpu!.geluErf(small, big, 4)).toThrow(/geluErf x.*needs 16/);
    expect(() => gpu!.geluErf(big, small, 4)).toThrow(/geluErf out/);
    expect(() => gpu!.geluErf(424242, big, 4)).toThrow(/not a live buffer/);
    expect(() => gpu!.geluErfGrad(big, big, small, 4)).toThrow(/geluErfGrad out/);
    expect(() => gpu!.geluErfGrad(big, 424242, big, 4)).toThrow(/geluErfGrad x.*not a live buffer/);
    expect(() => gpu!.geluErf(big, big, -1)).toThrow(/negative/);
  });
});
