// The `cuda` backend on the addon's host device (CPU reference kernels): storage semantics,
// every implemented kernel against the tfjs cpu backend, gradients, fallbacks, and leak-free
// training steps with no fallback. Skipped when the addon is not built or has no gpu runtime.
import * as tf from "@tensorflow/tfjs-core";
import {
  adamWUpdate, batchNorm1d, createMethod, emaUpdateOp, defaultMethodConfig, dilemmaEmbed, fusedAttention, fusedMlp, geluErf, layerNorm, type SSLMethod,
} from "@dilemma/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { addon } from "../../src/addon.js";
import {
  CUDA_BACKEND, CudaBackend, HOST_CACHE_MAX, cudaAvailable, cudaFallbackCounts, cudaKernelConfigs, cudaUnavailableReason, info,
  registerCudaBackend, resetCudaFallbackCounts,
} from "../../src/index.js";

const gpu = addon()?.gpu;
const hasGpu = gpu != null && typeof gpu.alloc === "function";
if (!hasGpu) console.warn("[cuda tests] skipped: the addon is not built or has no gpu runtime");
const suite = hasGpu ? describe : describe.skip;

// Buffers holding tensors: the runtime's live count less those the backend holds itself (spares
// kept for reuse, cached scalars).
const liveBuffers = () => gpu!.memory().liveBuffers - ((tf.findBackend(CUDA_BACKEND) as CudaBackend | null)?.heldBufferCount() ?? 0);
const backend = () => tf.backend() as CudaBackend;

/** Deterministic pseudo-random values (LCG), uniform in [lo, hi). */
function rand(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const out = new Float32Array(n);
  let s = seed * 7919 + 17;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = lo + ((s / 2147483648) * (hi - lo));
  }
  return out;
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const f = (shape: number[], seed: number, lo?: number, hi?: number) => tf.tensor(rand(size(shape), seed, lo, hi), shape);
const i32 = (shape: number[], seed: number, lo = -5, hi = 5) => tf.tensor(Int32Array.from(rand(size(shape), seed, lo, hi), Math.floor), shape, "int32");
const bool = (shape: number[], seed: number) => tf.tensor(Uint8Array.from(rand(size(shape), seed, 0, 2), Math.floor), shape, "bool");

interface Case {
  name: string;
  run: () => tf.Tensor | tf.Tensor[];
  /** What the cpu backend runs instead, where its kernel differs from tfjs semantics. */
  ref?: () => tf.Tensor | tf.Tensor[];
  tol?: number;
}

const cases: Case[] = [
  // unary (float32 and int32)
  ...(["abs", "exp", "neg", "relu", "square", "sigmoid", "tanh", "sign", "floor", "ceil", "expm1", "relu6", "softplus", "erf", "elu",
    "round", "sin", "cos"] as const).map((op): Case => ({ name: op, run: () => (tf[op] as (x: tf.Tensor) => tf.Tensor)(f([3, 5], 1, -8, 8)) })),
  ...(["log", "log1p", "sqrt", "rsqrt", "reciprocal"] as const).map((op): Case => ({ name: op, run: () => (tf[op] as (x: tf.Tensor) => tf.Tensor)(f([3, 5], 2, 0.1, 4)) })),
  { name: "step", run: () => tf.step(f([4, 4], 3), 0.3) },
  { name: "leakyRelu", run: () => tf.leakyRelu(f([4, 4], 3), 0.1) },
  { name: "abs/neg/square int32", run: () => [tf.abs(i32([7], 4)), tf.neg(i32([7], 4)), tf.square(i32([7], 4))] },
  { name: "logicalNot", run: () => tf.logicalNot(bool([9], 5)) },
  // binary with broadcasting
  { name: "add [2,3,4]+[4]", run: () => tf.add(f([2, 3, 4], 1), f([4], 2)) },
  { name: "sub [2,3,4]-[2,1,4]", run: () => tf.sub(f([2, 3, 4], 1), f([2, 1, 4], 2)) },
  { name: "mul [3,1]*[1,5]", run: () => tf.mul(f([3, 1], 1), f([1, 5], 2)) },
  { name: "div scalar", run: () => tf.div(f([3, 4], 1), tf.scalar(3)) },
  { name: "maximum/minimum", run: () => [tf.maximum(f([3, 4], 1), f([3, 4], 2)), tf.minimum(f([3, 4], 1), f([4], 2))] },
  { name: "squaredDifference", run: () => tf.squaredDifference(f([3, 4], 1), f([3, 4], 2)) },
  { name: "pow", run: () => tf.pow(f([3, 4], 1, 0.5, 2), f([3, 4], 2)) },
  { name: "int32 add/sub/mul/floorDiv/mod", run: () => [tf.add(i32([6], 1), i32([6], 2)), tf.sub(i32([6], 1), i32([6], 2)),
    tf.mul(i32([6], 1), i32([6], 2)), tf.floorDiv(i32([6], 1), tf.tensor1d([2, 3, -2, 4, 5, -3], "int32")),
    tf.mod(i32([6], 1), tf.tensor1d([2, 3, 2, 4, 5, 3], "int32"))] },
  { name: "float mod", run: () => tf.mod(f([6], 1, -5, 5), f([6], 2, 0.5, 3)) },
  { name: "comparisons float", run: () => {
    const [a, b] = [tf.round(f([3, 4], 1)), tf.round(f([4], 2))];
    return [tf.equal(a, b), tf.notEqual(a, b), tf.greater(a, b), tf.greaterEqual(a, b), tf.less(a, b), tf.lessEqual(a, b)];
  } },
  { name: "comparisons int32", run: () => [tf.equal(i32([8], 1), i32([8], 2)), tf.greater(i32([8], 1), i32([8], 2))] },
  { name: "logicalAnd/Or", run: () => [tf.logicalAnd(bool([8], 1), bool([8], 2)), tf.logicalOr(bool([8], 1), bool([1], 3))] },
  { name: "where (Select)", run: () => tf.where(bool([3, 4], 1), f([3, 4], 2), f([3, 4], 3)) },
  { name: "addN", run: () => tf.addN([f([3, 4], 1), f([3, 4], 2), f([3, 4], 3)]) },
  // reductions
  { name: "sum axis 1", run: () => tf.sum(f([3, 4, 5], 1), 1) },
  { name: "sum all / keepDims", run: () => [tf.sum(f([3, 4, 5], 1)), tf.sum(f([3, 4, 5], 1), [1, 2], true)] },
  { name: "sum non-contiguous axes", run: () => tf.sum(f([3, 4, 5], 1), [0, 2]) },
  { name: "mean/max/min/prod", run: () => [tf.mean(f([3, 4, 5], 1), -1), tf.max(f([3, 4, 5], 1), [0, 2]), tf.min(f([3, 4, 5], 1), 0),
    tf.prod(f([3, 4], 1, 0.5, 1.5), 1)] },
  { name: "argMax/argMin", run: () => [tf.argMax(f([3, 4, 5], 1), 1), tf.argMin(f([3, 4, 5], 1), 2)] },
  { name: "any/all", run: () => [tf.any(bool([3, 4], 1), 1), tf.all(bool([3, 4], 1), 0)] },
  { name: "sum int32 / bool", run: () => [tf.sum(i32([3, 4], 1), 1), tf.sum(bool([3, 4], 2))] },
  { name: "mean int32", run: () => tf.mean(i32([3, 4], 1), 1) },
  // softmax, transpose, matmul
  { name: "softmax", run: () => tf.softmax(f([2, 3, 7], 1, -5, 5)) },
  { name: "transpose", run: () => [tf.transpose(f([2, 3, 4], 1), [2, 0, 1]), tf.transpose(f([2, 1, 4], 1), [1, 2, 0])] },
  { name: "matMul", run: () => [tf.matMul(f([3, 4], 1), f([4, 5], 2)), tf.matMul(f([4, 3], 1), f([5, 4], 2), true, true)] },
  { name: "batched matMul [2,3,4]x[4,5]", run: () => tf.matMul(f([2, 3, 4], 1), f([4, 5], 2)) },
  // tfjs cpu pairs batches by index mod batch (wrong for [2,1] x [1,2]): the reference tiles first.
  { name: "broadcast matMul [2,1,3,4]x[1,2,4,2]", run: () => tf.matMul(f([2, 1, 3, 4], 1), f([1, 2, 4, 2], 2)),
    ref: () => tf.matMul(tf.tile(f([2, 1, 3, 4], 1), [1, 2, 1, 1]), tf.tile(f([1, 2, 4, 2], 2), [2, 1, 1, 1])) },
  { name: "fused matMul bias+relu / bias+gelu-free linear", run: () => [
    tf.fused.matMul({ a: f([3, 4], 1), b: f([4, 5], 2), bias: f([5], 3), activation: "relu" }),
    tf.fused.matMul({ a: f([2, 3, 4], 1), b: f([4, 5], 2), bias: f([5], 3) }),
    tf.fused.matMul({ a: f([3, 4], 1), b: f([5, 4], 2), transposeB: true, bias: f([3, 5], 3) }),
    tf.fused.matMul({ a: f([3, 4], 1), b: f([4, 5], 2), activation: "leakyrelu", leakyreluAlpha: 0.3 }),
  ], tol: 1e-5 },
  // data movement
  { name: "slice contiguous / strided", run: () => [tf.slice(f([4, 5], 1), [1, 0], [2, 5]), tf.slice(f([4, 5, 3], 1), [1, 2, 1], [2, 2, 2])] },
  { name: "split / concat", run: () => [...tf.split(f([4, 6], 1), [1, 2, 3], 1), tf.concat([f([2, 3], 1), f([2, 1], 2)], 1),
    tf.concat([i32([1, 3], 1), i32([2, 3], 2)], 0)] },
  { name: "pad / tile", run: () => [tf.pad(f([2, 3], 1), [[1, 0], [2, 1]], 0.5), tf.tile(f([2, 3], 1), [2, 3]), tf.tile(bool([2], 1), [3])] },
  { name: "stack / unstack", run: () => [tf.stack([f([2, 3], 1), f([2, 3], 2)], 1), ...tf.unstack(f([2, 3, 4], 1), 1)] },
  { name: "cast", run: () => [tf.cast(f([6], 1, -4, 4), "int32"), tf.cast(i32([6], 1), "float32"), tf.cast(f([6], 2), "bool"),
    tf.cast(bool([6], 1), "float32"), tf.cast(i32([6], 2), "bool")] },
  { name: "fill / zerosLike / onesLike", run: () => [tf.fill([2, 3], 2.5), tf.fill([3], 4, "int32"), tf.zerosLike(f([2, 2], 1)),
    tf.onesLike(i32([3], 1))] },
  { name: "reshape / expandDims / squeeze", run: () => [tf.reshape(f([2, 6], 1), [3, -1]), tf.expandDims(f([2, 3], 1), 1),
    tf.squeeze(f([2, 1, 3], 1))] },
  { name: "gather / gather batchDims", run: () => [tf.gather(f([5, 3], 1), tf.tensor1d([4, 0, 1, 2, 2], "int32")),
    tf.gather(f([2, 4, 3], 1), tf.tensor2d([[3, 1], [0, 0]], [2, 2], "int32"), 1, 1)] },
  { name: "unsortedSegmentSum", run: () => tf.unsortedSegmentSum(f([5, 3], 1), tf.tensor1d([1, 0, 1, 3, 1], "int32") as tf.Tensor1D, 4) },
  { name: "range / reverse", run: () => [tf.range(0, 7, 2), tf.range(1, 0, -0.25), tf.range(0, 5, 1, "int32"), tf.reverse(f([2, 3, 4], 1), [0, 2])] },
  { name: "conv2d patch embedding", run: () => tf.conv2d(f([2, 8, 8, 3], 1) as tf.Tensor4D, f([4, 4, 3, 5], 2) as tf.Tensor4D, 4, "valid"), tol: 1e-5 },
  // @dilemma/core's fused ops
  { name: "geluErf", run: () => geluErf(f([3, 5], 1, -4, 4)) },
  { name: "layerNorm", run: () => layerNorm(f([2, 3, 8], 1), f([8], 2) as tf.Tensor1D, f([8], 3) as tf.Tensor1D, 1e-6), tol: 1e-5 },
  { name: "dilemmaEmbed", run: () => dilemmaEmbed(f([2, 4, 3], 1) as tf.Tensor3D, f([4, 3], 2) as tf.Tensor2D,
    tf.tensor2d([[3, 0], [1, 2]], [2, 2], "int32"), tf.tensor2d([[0, 0], [2, 3]], [2, 2], "int32")) },
  { name: "adamWUpdate", run: () => adamWUpdate(f([3, 4], 1), f([3, 4], 2), f([3, 4], 3), f([3, 4], 4, 0, 1),
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, stepSize: 0.01, sqrtBc2: 0.05 }), tol: 1e-6 },
  { name: "emaUpdate", run: () => emaUpdateOp(f([3, 4], 1), f([3, 4], 2), 0.996) },
  { name: "batchNorm1d, its running statistics and gradient", tol: 1e-5, run: () => {
    const rm = tf.variable(f([6], 4), false), rv = tf.variable(f([6], 5, 0.5, 1.5), false);
    const p = { weight: f([6], 2, 0.5, 1.5), bias: f([6], 3), runningMean: rm, runningVar: rv };
    const a = { eps: 1e-5, momentum: 0.1 };
    const y = batchNorm1d(f([4, 6], 1) as tf.Tensor2D, p, a);
    const g = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(batchNorm1d(x as tf.Tensor2D, { ...p, weight: w }, a), f([4, 6], 6))))([f([4, 6], 1), p.weight]);
    const out = [y, tf.clone(rm), tf.clone(rv), ...g];
    tf.dispose([rm, rv]);
    return out;
  } },
  // the fused ViT-block ops, forward and (through customGrad) their gradient kernels
  ...((): Case[] => {
    const attn = () => ({ qkvW: f([24, 8], 2, -0.5, 0.5) as tf.Tensor2D, qkvB: f([24], 3) as tf.Tensor1D, projW: f([8, 8], 4, -0.5, 0.5) as tf.Tensor2D, projB: f([8], 5) as tf.Tensor1D });
    const mlp = (w1: tf.Tensor) => ({ fc1W: w1 as tf.Tensor2D, fc1B: f([12], 7) as tf.Tensor1D, fc2W: f([8, 12], 8, -0.5, 0.5) as tf.Tensor2D, fc2B: f([8], 9) as tf.Tensor1D });
    return [
      { name: "fusedAttention", run: () => fusedAttention(f([2, 5, 8], 1) as tf.Tensor3D, attn(), 2), tol: 1e-5 },
      { name: "fusedMlp", run: () => fusedMlp(f([2, 5, 8], 1), mlp(f([12, 8], 6, -0.5, 0.5))), tol: 1e-5 },
      {
        name: "fusedAttention + fusedMlp gradients", tol: 1e-5,
        run: () => tf.grads((x: tf.Tensor, w1: tf.Tensor) => tf.sum(tf.mul(fusedMlp(fusedAttention(x as tf.Tensor3D, attn(), 2), mlp(w1)), f([2, 5, 8], 10))))(
          [f([2, 5, 8], 1), f([12, 8], 6, -0.5, 0.5)]),
      },
    ];
  })(),
];

interface Out { shape: number[]; dtype: string; values: number[] }

async function runOn(name: string, c: Case): Promise<Out[]> {
  await tf.setBackend(name);
  return tf.tidy(() => {
    const r = name === "cpu" && c.ref ? c.ref() : c.run();
    return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) }));
  });
}

function expectClose(got: Out[], want: Out[], tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape, `${what}[${i}] shape`).toEqual(want[i].shape);
    expect(g.dtype, `${what}[${i}] dtype`).toBe(want[i].dtype);
    g.values.forEach((v, j) => {
      const w = want[i].values[j];
      if (Number.isNaN(w)) expect(v, `${what}[${i}][${j}]`).toBeNaN();
      else expect(Math.abs(v - w), `${what}[${i}][${j}]: ${v} vs ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
    });
  });
}

describe("cuda backend availability", () => {
  it.skipIf(cudaAvailable())("says why device \"cuda\" is unavailable instead of throwing (no addon, no gpu runtime, no CUDA, no device, no cuBLAS; skipped where cuda is available)", () => {
    expect(registerCudaBackend({ device: "cuda" })).toBe(false);
    expect(cudaUnavailableReason()).toMatch(/addon|CUDA|device|cuBLAS/);
    if (hasGpu && !info().cuda.compiled) expect(cudaUnavailableReason()).toMatch(/without CUDA/);
  });
});

suite("cuda backend, device branch (host buffers behind a recording stand-in for the CUDA runtime)", () => {
  it("opens the device, allocates on it, times with events and frees everything on dispose", async () => {
    const calls: string[] = [];
    let events = 0;
    const fake = new Proxy(gpu!, {
      get(target, prop, receiver) {
        if (prop === "init") return (i: number) => calls.push(`init ${i}`);
        // where = cuda (1) is served by host buffers so the rest of the runtime works as is
        if (prop === "alloc") return (where: number, bytes: number) => (calls.push(`alloc ${where}`), target.alloc(0, bytes));
        if (prop === "eventRecord") return () => (calls.push("eventRecord"), ++events);
        if (prop === "eventElapsedMs") return () => 1.5;
        if (prop === "eventFree") return () => calls.push("eventFree");
        if (prop === "dilemmaCheck") return () => calls.push("dilemmaCheck");
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const base = liveBuffers();
    const b = new CudaBackend(fake, { device: "cuda", deviceIndex: 2 });
    expect(calls[0]).toBe("init 2");
    const id = b.write(new Float32Array([1, 2, 3]), [3], "float32");
    expect(calls).toContain("alloc 1");
    expect(Array.from(b.readSync(id) as Float32Array)).toEqual([1, 2, 3]);
    expect((await b.time(() => undefined)).kernelMs).toBe(1.5);
    expect(calls.filter((c) => c === "eventFree").length).toBe(2);
    expect(calls).not.toContain("dilemmaCheck"); // served from the host copy: no device read
    const big = b.makeOutput([70000], "float32");
    b.readSync(big.dataId);
    expect(calls).toContain("dilemmaCheck"); // a device read surfaces skipped bad DILEMMA indices
    b.disposeData(big.dataId, true);
    b.write(new Int32Array([4]), [1], "int32");
    expect(liveBuffers() - b.heldBufferCount()).toBe(base + 1); // + the cached int32 scalar
    b.dispose();
    expect(liveBuffers()).toBe(base);
  });
});

suite("cuda backend on the host device", () => {
  let strictBefore: string | undefined;
  beforeAll(async () => {
    expect(registerCudaBackend({ device: "host" })).toBe(true);
    expect(await tf.setBackend(CUDA_BACKEND)).toBe(true);
    strictBefore = process.env.DILEMMA_CUDA_STRICT;
  });
  afterEach(async () => {
    if (strictBefore === undefined) delete process.env.DILEMMA_CUDA_STRICT;
    else process.env.DILEMMA_CUDA_STRICT = strictBefore;
    await tf.setBackend(CUDA_BACKEND);
  });
  afterAll(() => {
    delete process.env.DILEMMA_CUDA_STRICT;
  });

  it("round-trips float32, int32 and bool, small (host copy) and large (download)", () => {
    for (const n of [5, HOST_CACHE_MAX + 3]) {
      const fv = rand(n, 1);
      const iv = Int32Array.from(rand(n, 2, -1000, 1000), Math.floor);
      const bv = Uint8Array.from(rand(n, 3, 0, 2), Math.floor);
      const [ft, it_, bt] = [tf.tensor(fv), tf.tensor(iv, [n], "int32"), tf.tensor(bv, [n], "bool")];
      // A kernel output has no host copy: reading it downloads.
      const [f2, i2, b2] = [tf.reshape(tf.add(ft, 0), [n]), tf.add(it_, tf.scalar(0, "int32")), tf.logicalNot(tf.logicalNot(bt))];
      for (const [t, want, Ctor] of [[ft, fv, Float32Array], [f2, fv, Float32Array], [it_, iv, Int32Array], [i2, iv, Int32Array],
        [bt, bv, Uint8Array], [b2, bv, Uint8Array]] as const) {
        const got = t.dataSync();
        expect(got).toBeInstanceOf(Ctor);
        expect(Array.from(got.slice(0, 50))).toEqual(Array.from(want.slice(0, 50)));
        expect(got.length).toBe(n);
      }
      tf.dispose([ft, it_, bt, f2, i2, b2]);
    }
  });

  it("reads small host-made tensors without a device download; kernel outputs download once", () => {
    const spy = vi.spyOn(backend().gpu, "download");
    const idx = tf.tensor2d([[1, 2], [3, 0]], [2, 2], "int32");
    expect(Array.from(idx.dataSync())).toEqual([1, 2, 3, 0]);
    expect(spy).not.toHaveBeenCalled();
    const y = tf.add(idx, idx);
    expect(Array.from(y.dataSync())).toEqual([2, 4, 6, 0]);
    expect(Array.from(y.dataSync())).toEqual([2, 4, 6, 0]);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    tf.dispose([idx, y]);
  });

  it("shares buffers for Reshape/Identity/ExpandDims and frees them with the last reference", async () => {
    const base = liveBuffers();
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    expect(liveBuffers()).toBe(base + 1);
    const r = tf.reshape(x, [4]);
    const e = tf.expandDims(x, 0);
    expect(r.dataId).toBe(x.dataId);
    expect(backend().refCount(x.dataId)).toBe(3);
    expect(liveBuffers()).toBe(base + 1);
    x.dispose();
    expect(Array.from(await r.data())).toEqual([1, 2, 3, 4]);
    r.dispose();
    expect(liveBuffers()).toBe(base + 1);
    e.dispose();
    expect(liveBuffers()).toBe(base);
    expect(backend().refCount(x.dataId)).toBe(0);
    // Tensors made under cpu move over on first use, then free like the rest.
    await tf.setBackend("cpu");
    const c = tf.tensor1d([1, 2, 3]);
    await tf.setBackend(CUDA_BACKEND);
    const d = tf.mul(c, 2);
    expect(Array.from(d.dataSync())).toEqual([2, 4, 6]);
    tf.dispose([c, d]);
    expect(liveBuffers()).toBe(base);
  });

  it("reuses a freed buffer for the next tensor of its size (no alloc/free calls) and releases spares on request", () => {
    const calls = { alloc: 0, free: 0 };
    const g = gpu!;
    const counting = new Proxy(g, {
      get(target, prop, receiver) {
        if (prop === "alloc" || prop === "free") {
          return (...a: unknown[]) => { calls[prop]++; return (target[prop] as (...x: unknown[]) => number)(...a); };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const b = new CudaBackend(counting, { device: "host" });
    const x = b.makeOutput([1000], "float32");
    b.disposeData(x.dataId);
    expect(calls).toEqual({ alloc: 1, free: 0 });
    expect(b.heldBufferCount()).toBe(1);
    const y = b.makeTensorInfo([1000], "float32", new Float32Array(1000).fill(3));
    expect(calls.alloc).toBe(1); // the spare was reused
    expect((b.readSync(y.dataId) as Float32Array)[999]).toBe(3);
    expect(b.memory().liveBuffers).toBe(g.memory().liveBuffers - b.heldBufferCount());
    const z = b.makeOutput([999], "float32"); // another size: a new buffer
    expect(calls.alloc).toBe(2);
    b.disposeData(y.dataId);
    b.disposeData(z.dataId);
    expect(b.heldBufferCount()).toBe(2);
    b.releaseSpareBuffers();
    expect(calls.free).toBe(2);
    expect(b.heldBufferCount()).toBe(0);
    // Scalars of one value and dtype share one uploaded buffer until dispose().
    const s1 = b.makeTensorInfo([], "float32", new Float32Array([0.5]));
    const s2 = b.makeTensorInfo([1], "float32", new Float32Array([0.5]));
    const s3 = b.makeTensorInfo([], "int32", new Int32Array([1056964608])); // 0.5's bits, other dtype
    expect(calls.alloc).toBe(4);
    expect(b.bufferOf(s1)).toBe(b.bufferOf(s2));
    b.disposeData(s1.dataId);
    expect(Array.from(b.readSync(s2.dataId) as Float32Array)).toEqual([0.5]);
    b.disposeData(s2.dataId);
    b.disposeData(s3.dataId);
    expect(calls.free).toBe(2);
    expect(b.heldBufferCount()).toBe(2);
    b.dispose();
    expect(calls.free).toBe(4);
  });

  it("reports memory from the device runtime and times kernels", async () => {
    const x = tf.zeros([1000]);
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
    expect(m.numBytesInGPU).toBeGreaterThanOrEqual(4000);
    const t = await tf.time(() => tf.exp(x).dispose());
    expect(t.kernelMs).toBeGreaterThanOrEqual(0);
    x.dispose();
    expect(() => tf.tensor(["a"], [1], "string")).toThrow(/string/);
  });

  it.each(cases)("$name matches the tfjs cpu backend", async (c) => {
    process.env.DILEMMA_CUDA_STRICT = "1";
    const want = await runOn("cpu", c);
    const before = tf.memory().numTensors;
    const buffers = liveBuffers();
    const got = await runOn(CUDA_BACKEND, c);
    expectClose(got, want, c.tol ?? 1e-6, c.name);
    expect(tf.memory().numTensors).toBe(before);
    expect(liveBuffers()).toBe(buffers);
  });

  it("the table covers every implemented kernel", async () => {
    const seen = new Set<string>();
    // (a fused kernel whose addon entry is missing is not registered: core runs its composite)
    const registered = cudaKernelConfigs.filter((k) => tf.getKernel(k.kernelName, CUDA_BACKEND)?.kernelFunc === k.kernelFunc);
    const wrapped = registered.map((k) => {
      tf.unregisterKernel(k.kernelName, CUDA_BACKEND);
      tf.registerKernel({ ...k, kernelFunc: (a) => { seen.add(k.kernelName); return k.kernelFunc(a); } });
      return k;
    });
    try {
      for (const c of cases) await runOn(CUDA_BACKEND, c);
      // and the fused ops' gradient kernels
      tf.tidy(() => tf.grads((tok: tf.Tensor, pos: tf.Tensor) => {
        const e = dilemmaEmbed(tok as tf.Tensor3D, pos as tf.Tensor2D, tf.tensor2d([[1], [0]], [2, 1], "int32"), tf.tensor2d([[0], [1]], [2, 1], "int32"));
        return tf.sum(geluErf(layerNorm(e, tf.ones([3]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D)));
      })([f([2, 2, 3], 1), f([2, 3], 2)]));
    } finally {
      for (const k of wrapped) {
        tf.unregisterKernel(k.kernelName, CUDA_BACKEND);
        tf.registerKernel(k);
      }
    }
    const missing = registered.map((k) => k.kernelName).filter((n) => !seen.has(n));
    expect(missing).toEqual([]);
  });

  it("gives the cpu backend's gradients through a small ViT-like block", async () => {
    process.env.DILEMMA_CUDA_STRICT = "1";
    const block = (x: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => {
      const h = layerNorm(x, g as tf.Tensor1D, be as tf.Tensor1D, 1e-6);
      const qkv = tf.fused.matMul({ a: tf.reshape(h, [-1, 8]) as tf.Tensor2D, b: w1 as tf.Tensor2D, bias: b1 });
      const [q, k, v] = tf.split(tf.reshape(qkv, [2, 3, 24]), 3, 2);
      const att = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(8)));
      const o = tf.add(x, tf.matMul(att, v));
      const m = geluErf(tf.matMul(tf.reshape(o, [-1, 8]), w2));
      return tf.mean(tf.square(tf.sub(tf.sum(m, -1), tf.max(tf.reshape(o, [-1, 8]), -1))));
    };
    const args = () => [f([2, 3, 8], 1), f([8, 24], 2, -0.5, 0.5), f([24], 3, -0.1, 0.1), f([8, 8], 4, -0.5, 0.5), f([8], 5, 0.5, 1.5), f([8], 6)];
    const grads = async (name: string) => {
      await tf.setBackend(name);
      return tf.tidy(() => {
        const gs = tf.grads(block)(args());
        return gs.map((g) => ({ shape: g.shape, dtype: g.dtype, values: Array.from(g.dataSync()) }));
      });
    };
    const want = await grads("cpu");
    const got = await grads(CUDA_BACKEND);
    expectClose(got, want, 1e-4, "grads");
  });

  it("falls back to the cpu kernel for the rest, counting calls; strict mode names the kernel", () => {
    resetCudaFallbackCounts();
    const x = tf.tensor1d([1, 2, 3]);
    const c = tf.cumsum(x);
    expect(Array.from(c.dataSync())).toEqual([1, 3, 6]);
    expect(cudaFallbackCounts()).toEqual({ Cumsum: 1 });
    process.env.DILEMMA_CUDA_STRICT = "1";
    expect(() => tf.cumsum(x)).toThrow(/Cumsum.*DILEMMA_CUDA_STRICT/);
    tf.dispose([x, c]);
  });

  for (const method of ["mocov3", "simclr", "dino"] as const) {
    it(`${method} + DILEMMA: 3 training steps, no fallback, no leaked tensors or buffers`, () => {
      process.env.DILEMMA_CUDA_STRICT = "1";
      resetCudaFallbackCounts();
      const m: SSLMethod = createMethod(defaultMethodConfig({
        method, vit: { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2 },
        tokenDrop: 0.5, dilemmaProb: 0.25, headHidden: 32, headOut: 16, seed: 3,
        optim: { lr: 1e-3, warmupSteps: 0, totalSteps: 100, weightDecay: 0.05 },
      }));
      const views = [0, 1].map((s) => tf.randomNormal([4, 3, 16, 16], 0, 1, "float32", s + 1) as tf.Tensor4D);
      const rng = { seed: 11, counter: 0 };
      let tensors = 0;
      let buffers = 0;
      for (let step = 0; step < 3; step++) {
        const r = m.trainStep(views, step, rng);
        expect(Number.isFinite(r.loss)).toBe(true);
        if (step === 0) [tensors, buffers] = [tf.memory().numTensors, liveBuffers()];
        else {
          expect(tf.memory().numTensors, `tensors after step ${step}`).toBe(tensors);
          expect(liveBuffers(), `buffers after step ${step}`).toBe(buffers);
        }
      }
      expect(cudaFallbackCounts()).toEqual({});
      tf.dispose(views);
      m.dispose();
    });
  }
});
