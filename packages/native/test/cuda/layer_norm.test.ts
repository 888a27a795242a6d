// gpu.layerNorm / gpu.layerNormGrad on host buffers (the CPU reference of the CUDA kernels)
// against core's LayerNorm / LayerNormGrad kernels on tfjs cpu: widths 1..3000 (both CUDA row
// paths), one row, many rows, offsets and scales that stress the variance; argument errors.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { LAYER_NORM, LAYER_NORM_GRAD } from "@dilemma/core";
import { afterAll, describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { type GpuAddon } from "../../src/cuda/addon.js";
import { hostBuffers, onTfjsCpu, expectClose } from "./host_buffers.js";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.layerNorm === "function" && typeof gpu?.layerNormGrad === "function";
if (!ready) console.warn(`[cuda tests] gpu.layerNorm unavailable, skipped: ${loadError() ?? "not in this addon"}`);
const rt = ready ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0;

const rnd = lcg(99);
const randF = (n: number, scale = 1, offset = 0) => Float32Array.from({ length: n }, () => offset + (2 * rnd() - 1) * scale);

const { put, alloc, getF: get, freeAll, onBoth } = hostBuffers(() => gpu!);

const EPS = 1e-6;
describe.skipIf(!ready)("gpu.layerNorm (host) vs core's LayerNorm on tfjs cpu", () => {
  onTfjsCpu(freeAll);

  const CASES: [number, number, number, number][] = [
    // rows, d, scale, offset
    [1, 1, 1, 0], [1, 8, 1, 0], [6, 1, 1, 0], [4, 32, 1, 0], [13, 192, 1, 0], [5, 768, 3, 2], [2, 2048, 1, 0],
    [3, 2049, 1, 0], [2, 3000, 0.5, 0], [1, 64, 1e-3, 100], [70, 48, 1, 0],
  ];

  it.each(CASES)("forward rows %i, d %i (scale %d, offset %d)", (rows, d, scale, offset) => {
    const x = randF(rows * d, scale, offset), gamma = randF(d, 1, 1), beta = randF(d);
    const want = tf.tidy(() => {
      const out = tf.engine().runKernel(LAYER_NORM, { x: tf.tensor2d(x, [rows, d]), gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta) }, { eps: EPS }) as tf.Tensor;
      return out.dataSync();
    });
    const oi = alloc(rows * d);
    gpu!.layerNorm(put(x), put(gamma), put(beta), oi, rows, d, EPS);
    expectClose(want, get(oi, rows * d), 1e-5, 1e-5, `layerNorm [${rows},${d}]`);
  });

  it.each(CASES)("backward rows %i, d %i (scale %d, offset %d)", (rows, d, scale, offset) => {
    const x = randF(rows * d, scale, offset), gamma = randF(d, 1, 1), dy = randF(rows * d);
    const [wdx, wdg, wdb] = tf.tidy(() => {
      const outs = tf.engine().runKernel(LAYER_NORM_GRAD, { dy: tf.tensor2d(dy, [rows, d]), x: tf.tensor2d(x, [rows, d]), gamma: tf.tensor1d(gamma) }, { eps: EPS }) as unknown as tf.Tensor[];
      return outs.map((t) => t.dataSync());
    });
    const dx = alloc(rows * d), dg = alloc(d), db = alloc(d);
    gpu!.layerNormGrad(put(dy), put(x), put(gamma), dx, dg, db, rows, d, EPS);
    // dx scales with rstd (1/scale): compare relative to that.
    const tol = 1e-5 * Math.max(1, 1 / scale);
    expectClose(wdx, get(dx, rows * d), 1e-4, tol, `dx [${rows},${d}]`);
    expectClose(wdg, get(dg, d), 1e-5, 1e-5, `dGamma [${rows},${d}]`);
    expectClose(wdb, get(db, d), 1e-6, 1e-6, `dBeta [${rows},${d}]`);
  });

  it("backward over 0 rows zeroes dGamma and dBeta", () => {
    const dg = put(new Float32Array([5, 5, 5])), db = put(new Float32Array([5, 5, 5]));
    gpu!.layerNormGrad(alloc(0), alloc(0), put(new Float32Array(3)), alloc(0), dg, db, 0, 3, EPS);
    expect(Array.from(get(dg, 3))).toEqual([0, 0, 0]);
    expect(Array.from(get(db, 3))).toEqual([0, 0, 0]);
  });

  it("backward is deterministic (same inputs, same bits)", () => {
    const rows = 300, d = 40;
    const ids = [put(randF(rows * d)), put(randF(rows * d)), put(randF(d, 1, 1))];
    const run = () => {
      const dx = alloc(rows * d), dg = alloc(d), db = alloc(d);
      gpu!.layerNormGrad(ids[0], ids[1], ids[2], dx, dg, db, rows, d, EPS);
      return [get(dx, rows * d), get(dg, d), get(db, d)];
    };
    expect(run()).toEqual(run());
  });

  it("throws on bad ids and small buffers", () => {
    const rows = 2, d = 4;
    const x = put(randF(rows * d)), g = put(randF(d)), b = put(randF(d)), out = alloc(rows * d);
    expect(() => gpu!.layerNorm(987654, g, b, out, rows, d, EPS)).toThrow(/layerNorm/);
    expect(() => gpu!.layerNorm(x, g, b, out, rows + 1, d, EPS)).toThrow(/bytes/);
    expect(() => gpu!.layerNorm(x, alloc(d - 1), b, out, rows, d, EPS)).toThrow(/bytes/);
    expect(() => gpu!.layerNorm(x, g, b, out, -1, d, EPS)).toThrow(/negative/);
    const dx = alloc(rows * d), dg = alloc(d), db = alloc(d);
    expect(() => gpu!.layerNormGrad(x, x, g, dx, dg, 987654, rows, d, EPS)).toThrow(/layerNormGrad/);
    expect(() => gpu!.layerNormGrad(x, x, g, dx, alloc(d - 1), db, rows, d, EPS)).toThrow(/bytes/);
    expect(() => gpu!.layerNormGrad(x, x, g, alloc(rows * d - 1), dg, db, rows, d, EPS)).toThrow(/bytes/);
  });
});


describe.skipIf(!cudaReady)("gpu.layerNorm: cuda kernels vs the host reference", () => {
  afterAll(() => {
    freeAll();
  });
  // Warp rows (d <= 2048) and block rows; backward tilings of 1, several and the maximum 512 tiles.
  const CASES: [number, number, number, number][] = [
    [1, 1, 1, 0], [7, 192, 1, 0], [33, 768, 2, 1], [4, 2048, 1, 0], [3, 2049, 1, 0], [2, 5000, 1, 0],
    [1, 64, 1e-3, 100], [1000, 40, 1, 0], [20000, 8, 1, 0], [300, 384, 1, -3],
  ];
  it.each(CASES)("rows %i, d %i (scale %d, offset %d)", (rows, d, scale, offset) => {
    const x = randF(rows * d, scale, offset), gamma = randF(d, 1, 1), beta = randF(d), dy = randF(rows * d);
    const [[hOut], [cOut]] = onBoth([x, gamma, beta], [rows * d], ([xi, gi, bi], [oi]) => gpu!.layerNorm(xi, gi, bi, oi, rows, d, EPS));
    expectClose(hOut, cOut, 1e-5, 2e-5, `cuda layerNorm [${rows},${d}]`);
    const [h, c] = onBoth([dy, x, gamma], [rows * d, d, d], ([dyi, xi, gi], [dxi, dgi, dbi]) =>
      gpu!.layerNormGrad(dyi, xi, gi, dxi, dgi, dbi, rows, d, EPS));
    expectClose(h[0], c[0], 1e-4, 1e-4 * Math.max(1, 1 / scale), `cuda dx [${rows},${d}]`);
    expectClose(h[1], c[1], 1e-5, 1e-4, `cuda dGamma [${rows},${d}]`);
    expectClose(h[2], c[2], 1e-6, 1e-5, `cuda dBeta [${rows},${d}]`);
  });

  it("backward is bitwise deterministic, and 0 rows zeroes dGamma / dBeta", () => {
    const rows = 5000, d = 96;
    const ins = [randF(rows * d), randF(rows * d), randF(d, 1, 1)];
    const run = () => onBoth(ins, [rows * d, d, d], ([dyi, xi, gi], [dxi, dgi, dbi]) =>
      gpu!.layerNormGrad(dyi, xi, gi, dxi, dgi, dbi, rows, d, EPS))[1];
    expect(run()).toEqual(run());
    const [h, c] = onBoth([new Float32Array(0), new Float32Array(0), randF(3)], [0, 3, 3], ([dyi, xi, gi], [dxi, dgi, dbi]) =>
      gpu!.layerNormGrad(dyi, xi, gi, dxi, dgi, dbi, 0, 3, EPS));
    expect(Array.from(c[1])).toEqual([0, 0, 0]);
    expect(Array.from(c[2])).toEqual(Array.from(h[2]));
  });
});
