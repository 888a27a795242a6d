// Each native kernel against the tfjs cpu kernel on the same random inputs (several shapes,
// broadcasting, transposes), so the native engine is a drop-in for cpu.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { isAvailable, loadError, nativeKernelImpls } from "../src/index.js";
import { GELU_ERF, GELU_ERF_GRAD, LAYER_NORM, LAYER_NORM_GRAD } from "@dilemma/core";
import { seededRand } from "./random.js";

const available = isAvailable();
if (!available) console.warn(`[native tests] kernel tests skipped: ${loadError()}`);

const rand = seededRand(12345);

type Inputs = { shape: number[]; data: Float32Array }[];
function inputs(...shapes: number[][]): Inputs {
  return shapes.map((shape) => ({ shape, data: rand(shape.reduce((a, b) => a * b, 1)) }));
}

/** Runs fn on both backends with fresh tensors and returns [cpu, native] outputs. */
async function both(ins: Inputs, fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[], number[][]]> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const ts = ins.map((i) => tf.tensor(i.data, i.shape));
    const r = fn(...ts);
    const outs = Array.isArray(r) ? r : [r];
    const vals = outs.map((o) => o.dataSync() as Float32Array);
    const shapes = outs.map((o) => o.shape);
    tf.dispose([...ts, ...outs]);
    return { vals, shapes };
  };
  const n = await run("native");
  const c = await run("cpu");
  expect(n.shapes).toEqual(c.shapes);
  return [c.vals, n.vals, c.shapes];
}

function close(a: Float32Array, b: Float32Array, rtol = 1e-5, atol = 1e-5): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(a[i]));
    if (!(err <= worst) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      worst = err;
      at = i;
    }
  }
  if (at >= 0) expect.fail(`element ${at}: cpu ${a[at]} vs native ${b[at]}`);
}

async function check(ins: Inputs, fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[], rtol = 1e-5, atol = 1e-5) {
  const [c, n] = await both(ins, fn);
  for (let i = 0; i < c.length; i++) close(c[i], n[i], rtol, atol);
}

describe.skipIf(!available)("native kernels vs tfjs cpu", () => {
  afterAll(async () => {
    await tf.setBackend("native");
  });

  it("registers as a backend whose hot kernels are the native ones", () => {
    expect(tf.findBackendFactory("native")).toBeDefined();
    for (const name of Object.keys(nativeKernelImpls())) {
      const k = tf.getKernel(name, "native");
      expect(k, name).toBeDefined();
      expect(k!.kernelFunc, name).not.toBe(tf.getKernel(name, "cpu")?.kernelFunc);
    }
    expect(tf.getKernel("Cast", "native")?.kernelFunc).toBe(tf.getKernel("Cast", "cpu")?.kernelFunc); // copied
  });

  it.each([
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[4, 33, 65], [4, 65, 17], false, false],
    [[4, 33, 65], [65, 17], false, false],
    [[65, 33], [2, 3, 65, 17], true, false],
    [[64, 192], [576, 192], false, true],
  ] as [number[], number[], boolean, boolean][])("BatchMatMul %j x %j tA=%s tB=%s", async (sa, sb, ta, tb) => {
    await check(inputs(sa, sb), (a, b) => tf.matMul(a, b, ta, tb), 1e-4, 1e-4);
  });

  it("BatchMatMul broadcasts batch dims both ways ([2,1] x [1,3]; tfjs cpu itself gets this wrong)", async () => {
    const [ins] = [inputs([2, 1, 9, 8], [1, 3, 8, 6])];
    const [, n] = await both(ins, (a, b) => tf.matMul(a, b));
    await tf.setBackend("cpu");
    const a = tf.broadcastTo(tf.tensor(ins[0].data, ins[0].shape), [2, 3, 9, 8]);
    const b = tf.broadcastTo(tf.tensor(ins[1].data, ins[1].shape), [2, 3, 8, 6]);
    close(tf.matMul(a, b).dataSync() as Float32Array, n[0], 1e-4, 1e-4);
  });

  // The engine's guarantee (csrc/engine/gemm_blocked.h BlockedSgemm): every 2-D product is one
  // single-threaded BLAS call per packed 64-row block, with the same flags, strides and alignment
  // whatever the row count, so a row's bits depend only on its own row of A. Shapes cover the
  // kernel families BLAS picks by shape and transposition (tiny N, K < 32, K above one K block).
  it("2-D matMul rows do not depend on how many rows share the call (batch invariance)", async () => {
    await tf.setBackend("native");
    const { info } = await import("../src/index.js");
    expect(info().blasThreads, "BLAS must run single-threaded inside the engine's pool").toBe(1);
    for (const [transA, transB, k, n] of [
      [false, false, 192, 768], [true, false, 96, 40], [false, false, 1024, 1024], [false, true, 192, 1],
      [true, true, 48, 16], [false, true, 24, 576], [true, false, 700, 8],
    ] as const) {
      const big = tf.tensor(rand(200 * k), transA ? [k, 200] : [200, k]);
      const w = tf.tensor(rand(k * n), transB ? [n, k] : [k, n]);
      const full = tf.matMul(big, w, transA, transB).dataSync();
      for (const rows of [1, 3, 64, 70, 130]) {
        const part = transA ? tf.slice(big, [0, 0], [k, rows]) : tf.slice(big, [0, 0], [rows, k]);
        const got = tf.matMul(part, w, transA, transB).dataSync();
        expect(got, `tA=${transA} tB=${transB} k=${k} n=${n} rows=${rows}`).toEqual(full.subarray(0, rows * n));
      }
    }
  });

  it.each(["linear", "relu", "elu", "sigmoid", "leakyrelu", "relu6"] as const)("_FusedMatMul with bias, %s", async (act) => {
    await check(inputs([2, 9, 13], [13, 11], [11]), (a, b, bias) =>
      tf.fused.matMul({ a, b, bias, activation: act, leakyreluAlpha: 0.1 }), 1e-4, 1e-4);
    await check(inputs([9, 13], [11, 13]), (a, b) => tf.fused.matMul({ a, b, transposeB: true, activation: act }), 1e-4, 1e-4);
  });

  it("builtin sgemm (the no-BLAS fallback) matches tfjs", async () => {
    const { addon } = await import("../src/addon.js");
    for (const [m, n, k, ta, tb] of [[37, 29, 130, false, false], [64, 200, 65, true, true], [1, 513, 3, false, true]] as const) {
      const a = rand(m * k);
      const b = rand(k * n);
      const out = new Float32Array(m * n);
      addon()!.sgemmBuiltin(a, b, out, m, n, k, ta, tb);
      await tf.setBackend("cpu");
      const ref = tf.matMul(tf.tensor(a, ta ? [k, m] : [m, k]), tf.tensor(b, tb ? [n, k] : [k, n]), ta, tb);
      close(ref.dataSync() as Float32Array, out, 1e-4, 1e-4);
      ref.dispose();
    }
  });

  const binShapes: [number[], number[]][] = [
    [[6, 7], [6, 7]], [[6, 7], [7]], [[6, 7], [6, 1]], [[1], [4, 5]], [[], [3, 4]],
    [[2, 3, 4, 5], [3, 1, 5]], [[2, 1, 4], [1, 3, 1]], [[100003], [100003]], [[64, 65, 192], [65, 192]],
  ];
  for (const [name, fn] of [
    ["add", tf.add], ["sub", tf.sub], ["mul", tf.mul], ["div", tf.div],
    ["maximum", tf.maximum], ["minimum", tf.minimum], ["squaredDifference", tf.squaredDifference],
  ] as const) {
    it.each(binShapes)(`${name} %j %j`, async (sa, sb) => {
      await check(inputs(sa, sb), (a, b) => (fn as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor)(a, b));
      await check(inputs(sb, sa), (a, b) => (fn as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor)(a, b));
    });
  }

  it("addN", async () => {
    await check(inputs([3, 50], [3, 50], [3, 50], [3, 50]), (a, b, c, d) => tf.addN([a, b, c, d]));
  });

  it.each([
    ["exp", tf.exp], ["neg", tf.neg], ["square", tf.square], ["abs", tf.abs], ["relu", tf.relu],
    ["sigmoid", tf.sigmoid], ["tanh", tf.tanh], ["reciprocal", tf.reciprocal],
  ] as const)("unary %s", async (_n, fn) => {
    await check(inputs([33, 129]), (x) => (fn as (t: tf.Tensor) => tf.Tensor)(x));
  });

  it.each([["log", tf.log], ["sqrt", tf.sqrt], ["rsqrt", tf.rsqrt]] as const)("unary %s (positive input)", async (_n, fn) => {
    await check(inputs([33, 129]), (x) => (fn as (t: tf.Tensor) => tf.Tensor)(tf.add(tf.abs(x), 0.1)));
  });

  it.each([
    [[7, 9], -1, false], [[7, 9], 0, false], [[7, 9], 1, true], [[4, 5, 6], [1, 2], false],
    [[4, 5, 6], [0, 1], true], [[4, 5, 6], 1, false], [[4, 5, 6], [0, 2], false], [[4, 5, 6], [0, 1, 2], false],
    [[300, 3000], 0, false],
  ] as [number[], number | number[], boolean][])("reductions %j axis %j keepDims %s", async (shape, axis, keep) => {
    await check(inputs(shape), (x) => [tf.sum(x, axis, keep), tf.max(x, axis, keep), tf.min(x, axis, keep), tf.mean(x, axis, keep)], 1e-5, 1e-5);
  });

  it.each([[[5, 7]], [[3, 4, 65]], [[2, 3, 17, 17]]] as [number[]][])("softmax %j", async (shape) => {
    await check(inputs(shape), (x) => tf.softmax(tf.mul(x, 5)));
  });

  it.each([
    [[5, 7], [1, 0]], [[2, 3, 4], [0, 2, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 3, 4, 5], [3, 1, 0, 2]],
  ] as [number[], number[]][])("transpose %j perm %j", async (shape, perm) => {
    await check(inputs(shape), (x) => tf.transpose(x, perm));
  });

  it.each([
    [[5, 7], [1, 0], [0, 0]], [[2, 3, 4], [1, 0, 2], [0, 2, 1]], [[2, 3, 4, 5], [0, 1, 1, 0], [1, 0, 2, 0]],
  ] as [number[], number[], number[]][])("slice / pad of %j (begin %j)", async (shape, begin, pad) => {
    // a non-contiguous window: shorter than the input on the last axis
    const sz = shape.map((s, d) => Math.max(1, s - begin[d] - (d === shape.length - 1 ? 1 : 0)));
    await check(inputs(shape), (x) => [
      tf.slice(x, begin, sz),
      tf.pad(x, pad.map((p) => [p, 1] as [number, number]), 0.5),
    ]);
  });

  it("splitV, concat and tile", async () => {
    await check(inputs([4, 9, 6], [4, 2, 6]), (x, y) => [
      ...tf.split(x, [2, 3, 4], 1),
      tf.concat([x, y], 1),
      tf.concat([x, tf.reshape(tf.tile(y, [1, 3, 1]), [4, 9, 4])], 2),
      tf.tile(y, [2, 1, 3]),
      tf.tile(tf.slice(y, [0, 0, 0], [1, 1, 6]), [5, 1, 1]),
    ]);
  });

  it("GeluErf and GeluErfGrad match core's cpu kernels", async () => {
    await check(inputs([3, 7, 40], [3, 7, 40]), (x, dy) => [
      tf.engine().runKernel(GELU_ERF, { x: tf.mul(x, 4) }) as tf.Tensor,
      tf.engine().runKernel(GELU_ERF_GRAD, { dy, x: tf.mul(x, 4) }) as tf.Tensor,
    ], 1e-6, 1e-6);
  });

  it.each([[[5, 16]], [[3, 65, 192]], [[200, 7]]] as [number[]][])("LayerNorm and LayerNormGrad %j", async (shape) => {
    const d = shape[shape.length - 1];
    await check(inputs(shape, [d], [d], shape), (x, g, b, dy) => [
      tf.engine().runKernel(LAYER_NORM, { x, gamma: g, beta: b }, { eps: 1e-6 }) as tf.Tensor,
      ...(tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x, gamma: g }, { eps: 1e-6 }) as unknown as tf.Tensor[]),
    ], 1e-5, 1e-4);
  });

  it("gradients flow through native kernels (matMul + gelu + layerNorm chain)", async () => {
    await check(inputs([6, 16], [16, 16], [16], [16]), (x, w, g, b) => {
      const f = (xx: tf.Tensor, ww: tf.Tensor) =>
        tf.sum(tf.softmax(tf.engine().runKernel(LAYER_NORM, { x: tf.matMul(xx, ww), gamma: g, beta: b }, { eps: 1e-6 }) as tf.Tensor));
      return tf.grads(f)([x, w]);
    }, 1e-4, 1e-5);
  });

  it("int32 inputs fall back to the cpu kernels", async () => {
    await tf.setBackend("native");
    const r = tf.add(tf.tensor1d([1, 2, 3], "int32"), tf.tensor1d([4, 5, 6], "int32"));
    expect(r.dtype).toBe("int32");
    expect(Array.from(r.dataSync())).toEqual([5, 7, 9]);
    expect(Array.from(tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"), 0).dataSync())).toEqual([4, 6]);
  });
});
