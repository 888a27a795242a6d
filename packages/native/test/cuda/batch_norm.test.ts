// gpu.batchNorm1d / gpu.batchNorm1dGrad on host buffers (the CPU reference of the CUDA kernels)
// against core's BatchNorm1d / BatchNorm1dGrad kernels on tfjs cpu: batches 2..300, widths 1..4096
// (the MoCo v3 projector's), affine and not, offsets that stress the variance; argument errors.
// With a GPU, the cuda kernels against the host reference.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { BATCH_NORM_1D, BATCH_NORM_1D_GRAD } from "@dilemma/core";
import { afterAll, describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { type GpuAddon } from "../../src/cuda/addon.js";
import { hostBuffers, onTfjsCpu, expectClose } from "./host_buffers.js";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.batchNorm1d === "function" && typeof gpu?.batchNorm1dGrad === "function";
if (!ready) console.warn(`[cuda tests] gpu.batchNorm1d unavailable, skipped: ${loadError() ?? "not in this addon"}`);
const rt = ready ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0;

const rnd = lcg(7);
const randF = (n: number, scale = 1, offset = 0) => Float32Array.from({ length: n }, () => offset + (2 * rnd() - 1) * scale);
const { put, alloc, getF: get, freeAll, onBoth } = hostBuffers(() => gpu!);

const EPS = 1e-5, MOM = 0.1;
// B, C, scale, offset
const CASES: [number, number, number, number][] = [[2, 1, 1, 0], [2, 7, 1, 0], [5, 33, 2, 1], [16, 256, 1, 0], [3, 4096, 1, 0], [300, 40, 1, -3], [4, 64, 1e-2, 50]];

describe.skipIf(!ready)("gpu.batchNorm1d (host) vs core's BatchNorm1d on tfjs cpu", () => {
  onTfjsCpu(freeAll);

  for (const affine of [true, false]) {
    it.each(CASES)(`${affine ? "affine" : "affine=False"}: B %i, C %i (scale %d, offset %d)`, (B, C, scale, offset) => {
      const x = randF(B * C, scale, offset), w = randF(C, 1, 1), b = randF(C), rm = randF(C), rv = randF(C, 0.5, 1), dy = randF(B * C);
      const want = tf.tidy(() => {
        const p = { x: tf.tensor2d(x, [B, C]), runningMean: tf.tensor1d(rm), runningVar: tf.tensor1d(rv) };
        if (affine) Object.assign(p, { weight: tf.tensor1d(w), bias: tf.tensor1d(b) });
        const fwd = tf.engine().runKernel(BATCH_NORM_1D, p, { eps: EPS, momentum: MOM }) as unknown as tf.Tensor[];
        const gi: tf.NamedTensorMap = { dy: tf.tensor2d(dy, [B, C]), x: p.x };
        if (affine) gi.weight = tf.tensor1d(w);
        const bwd = tf.engine().runKernel(BATCH_NORM_1D_GRAD, gi, { eps: EPS }) as unknown as tf.Tensor[];
        return [...fwd, ...bwd].map((t) => t.dataSync());
      });
      const [y, rmo, rvo, dx] = [alloc(B * C), alloc(C), alloc(C), alloc(B * C)];
      const [dw, db] = affine ? [alloc(C), alloc(C)] : [0, 0];
      const [wi, bi] = affine ? [put(w), put(b)] : [0, 0];
      const xi = put(x);
      gpu!.batchNorm1d(xi, wi, bi, put(rm), put(rv), y, rmo, rvo, B, C, EPS, MOM);
      gpu!.batchNorm1dGrad(put(dy), xi, wi, dx, dw, db, B, C, EPS);
      const tag = `[${B},${C}]${affine ? "" : " affine=False"}`;
      expectClose(want[0], get(y, B * C), 1e-5, 1e-5, `y ${tag}`);
      expectClose(want[1], get(rmo, C), 1e-6, 1e-6, `runningMean ${tag}`);
      expectClose(want[2], get(rvo, C), 1e-6, 1e-6, `runningVar ${tag}`);
      expectClose(want[3], get(dx, B * C), 1e-4, 1e-5 / scale, `dx ${tag}`);
      if (affine) {
        expectClose(want[4], get(dw, C), 1e-5, 1e-5, `dWeight ${tag}`);
        expectClose(want[5], get(db, C), 1e-6, 1e-6, `dBias ${tag}`);
      }
    });
  }

  it("throws on a batch of one, bad ids, small buffers and half an affine pair", () => {
    const B = 2, C = 4;
    const x = put(randF(B * C)), c = () => put(randF(C)), y = alloc(B * C);
    expect(() => gpu!.batchNorm1d(x, c(), c(), c(), c(), y, alloc(C), alloc(C), 1, C, EPS, MOM)).toThrow(/B >= 2/);
    expect(() => gpu!.batchNorm1d(987654, c(), c(), c(), c(), y, alloc(C), alloc(C), B, C, EPS, MOM)).toThrow(/batchNorm1d/);
    expect(() => gpu!.batchNorm1d(x, c(), c(), alloc(C - 1), c(), y, alloc(C), alloc(C), B, C, EPS, MOM)).toThrow(/bytes/);
    expect(() => gpu!.batchNorm1d(x, c(), 0, c(), c(), y, alloc(C), alloc(C), B, C, EPS, MOM)).toThrow(/both weight and bias/);
    expect(() => gpu!.batchNorm1dGrad(x, x, c(), alloc(B * C), 0, 0, B, C, EPS)).toThrow(/dWeight and dBias are required/);
  });
});

describe.skipIf(!cudaReady)("gpu.batchNorm1d: cuda kernels vs the host reference", () => {
  afterAll(() => {
    freeAll();
  });
  it.each([...CASES, [256, 4096, 1, 0], [256, 256, 1, 0], [9, 31, 1, 0]] as [number, number, number, number][])("B %i, C %i (scale %d, offset %d)", (B, C, scale, offset) => {
    const x = randF(B * C, scale, offset), w = randF(C, 1, 1), b = randF(C), rm = randF(C), rv = randF(C, 0.5, 1), dy = randF(B * C);
    const [h, c] = onBoth([x, w, b, rm, rv, dy], [B * C, C, C, B * C, C, C], ([xi, wi, bi, rmi, rvi, dyi], [y, rmo, rvo, dx, dw, db]) => {
      gpu!.batchNorm1d(xi, wi, bi, rmi, rvi, y, rmo, rvo, B, C, EPS, MOM);
      gpu!.batchNorm1dGrad(dyi, xi, wi, dx, dw, db, B, C, EPS);
    });
    const names = ["y", "runningMean", "runningVar", "dx", "dWeight", "dBias"];
    names.forEach((n, i) => expectClose(h[i], c[i], 1e-5, 1e-5 / Math.min(1, scale), `cuda ${n} [${B},${C}]`));
  });
});
