// gpu.matMul (src/cuda/addon.ts) against tfjs cpu: on host buffers everywhere, and on cuda buffers
// too when this machine has a GPU and cuBLAS (then it doubles as a device check of the cuBLAS
// mapping: every transpose combination, batch broadcasting, explicit batch indices, epilogue).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addon, addonLoadError } from "../../src/addon.js";
import { ACT, PRECISION, WHERE, type GpuAddon, type Where } from "../../src/cuda/addon.js";
import { seededRand } from "../random.js";

const gpu: GpuAddon | undefined = addon()?.gpu;
const available = typeof gpu?.alloc === "function" && typeof gpu?.matMul === "function";
if (!available) console.warn(`[cuda matMul] SKIPPED: addon or its gpu.matMul unavailable (${addonLoadError() ?? "gpu runtime not built"})`);
const rt = available ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0 && addon()!.info().cuda.cublas.available;
const devices: [string, Where][] = [["host", WHERE.host], ...(cudaReady ? [["cuda", WHERE.cuda] as [string, Where]] : [])];

const rand = seededRand(4242);
const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

// Buffers of the running test, freed after it.
let live: number[] = [];
function upload(where: Where, data: Float32Array | Int32Array): number {
  const id = gpu!.alloc(where, data.byteLength);
  live.push(id);
  if (data.byteLength > 0) gpu!.upload(id, data);
  return id;
}
function empty(where: Where, n: number, poison = NaN): number {
  return upload(where, new Float32Array(n).fill(poison));  // poisoned: the kernel must overwrite everything
}
function download(id: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (n > 0) gpu!.download(id, out);
  return out;
}

function close(ref: Float32Array, got: Float32Array, tol: number): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(ref[i] - got[i]);
    if (!(err <= tol + tol * Math.abs(ref[i])) && !(Number.isNaN(ref[i]) && Number.isNaN(got[i]))) {
      expect.fail(`element ${i}: tfjs ${ref[i]} vs gpu.matMul ${got[i]}`);
    }
  }
}

type Activation = keyof typeof ACT;
interface Case {
  a: number[]; b: number[]; transA?: boolean; transB?: boolean;
  bias?: number[]; act?: Activation; alpha?: number;
}

/**
 * Runs gpu.matMul on `where` for tensors a, b (batch dims flattened the way a backend does:
 * batchA/batchB/batchOut and, when the batch dims do not broadcast by a trailing modulo, idxA/idxB)
 * and returns [tfjs cpu result, gpu result].
 */
function run(where: Where, c: Case, explicitIdx: boolean): [Float32Array, Float32Array] {
  const { transA = false, transB = false, act = "linear", alpha = 0.2 } = c;
  const ad = rand(size(c.a)), bd = rand(size(c.b));
  const biasD = c.bias ? rand(size(c.bias)) : null;
  const ra = c.a.length, rb = c.b.length;
  const m = transA ? c.a[ra - 1] : c.a[ra - 2], k = transA ? c.a[ra - 2] : c.a[ra - 1];
  const n = transB ? c.b[rb - 2] : c.b[rb - 1];
  const batchDimsA = c.a.slice(0, -2), batchDimsB = c.b.slice(0, -2);
  const rank = Math.max(batchDimsA.length, batchDimsB.length);
  const padA = [...Array(rank - batchDimsA.length).fill(1), ...batchDimsA];
  const padB = [...Array(rank - batchDimsB.length).fill(1), ...batchDimsB];
  const outBatch = padA.map((x, i) => Math.max(x, padB[i]));
  const batchA = size(batchDimsA), batchB = size(batchDimsB), batchOut = size(outBatch);

  // Reference on tfjs cpu. Operands are broadcast explicitly first: tfjs cpu's BatchMatMul gets
  // two-way batch broadcasting ([2,1] x [1,3]) wrong (see ../kernels.test.ts).
  const ref = tf.tidy(() => {
    let ta = tf.tensor(ad, c.a), tb = tf.tensor(bd, c.b);
    if (rank > 0) {
      ta = tf.broadcastTo(ta, [...outBatch, ...c.a.slice(-2)]);
      tb = tf.broadcastTo(tb, [...outBatch, ...c.b.slice(-2)]);
    }
    const bias = biasD ? tf.tensor(biasD, c.bias!) : undefined;
    const r = c.bias || act !== "linear"
      ? tf.fused.matMul({ a: ta, b: tb, transposeA: transA, transposeB: transB, bias, activation: act, leakyreluAlpha: alpha })
      : tf.matMul(ta, tb, transA, transB);
    return r.dataSync() as Float32Array;
  });

  const idA = upload(where, ad), idB = upload(where, bd);
  const idBias = biasD ? upload(where, biasD) : 0;
  const out = empty(where, batchOut * m * n);
  let idx: [Int32Array, Int32Array] | [] = [];
  if (explicitIdx) {
    // Operand batch index per output batch: row-major over outBatch, 0 on broadcast axes.
    const ia = new Int32Array(batchOut), ib = new Int32Array(batchOut);
    for (let o = 0; o < batchOut; o++) {
      let rest = o, fa = 0, fb = 0, sa = 1, sb = 1;
      for (let d = rank - 1; d >= 0; d--) {
        const i = rest % outBatch[d];
        rest = Math.floor(rest / outBatch[d]);
        if (padA[d] > 1) fa += i * sa;
        if (padB[d] > 1) fb += i * sb;
        sa *= padA[d];
        sb *= padB[d];
      }
      ia[o] = fa;
      ib[o] = fb;
    }
    idx = [ia, ib];
  }
  gpu!.matMul(idA, idB, out, batchA, batchB, batchOut, m, n, k, transA, transB, idBias,
    biasD ? biasD.length : 0, ACT[act], alpha, ...idx);
  return [ref, download(out, batchOut * m * n)];
}

describe.skipIf(!available)("gpu.matMul", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });
  afterEach(() => {
    for (const id of live) gpu!.free(id);
    live = [];
  });
  afterAll(() => {
    if (cudaReady) gpu!.setMatmulPrecision(PRECISION.fp32);
  });

  for (const [dev, where] of devices) {
    // fp32 on both devices; only the summation order differs from tfjs.
    const tol = 1e-5 * (where === WHERE.cuda ? 10 : 1);

    it.each([
      [[7, 5], [5, 3], false, false],
      [[5, 7], [5, 3], true, false],
      [[7, 5], [3, 5], false, true],
      [[5, 7], [3, 5], true, true],
      [[130, 33], [33, 17], false, false],  // several 64-row blocks on host, a tail block too
      [[33, 130], [17, 33], true, true],
      [[1, 1], [1, 1], false, false],
      [[1, 9], [9, 1], false, false],
    ] as [number[], number[], boolean, boolean][])(`${dev}: 2-D %j x %j transA=%s transB=%s`, (a, b, transA, transB) => {
      const [ref, got] = run(where, { a, b, transA, transB }, false);
      close(ref, got, tol);
    });

    it.each([
      [[3, 4, 5], [3, 5, 6], false, false],    // equal batches
      [[3, 5, 4], [3, 6, 5], true, true],
      [[1, 4, 5], [3, 5, 6], false, false],    // batch-1 A (stride 0)
      [[3, 4, 5], [1, 6, 5], false, true],     // batch-1 B
      [[3, 4, 5], [5, 6], false, false],       // 2-D B under batched A
      [[5, 4], [2, 3, 5, 6], true, false],     // 2-D A under rank-4 B
      [[3, 4, 5], [2, 3, 5, 6], false, false], // batchA = 3 divides batchOut = 6: two runs of b % 3
      [[2, 1, 4, 5], [1, 3, 5, 6], false, false], // two-way broadcast: needs idxA/idxB
      [[2, 1, 5, 4], [1, 3, 6, 5], true, true],
    ] as [number[], number[], boolean, boolean][])(`${dev}: batched %j x %j transA=%s transB=%s`, (a, b, transA, transB) => {
      const twoWay = a.length === 4 && b.length === 4 && a[1] !== b[1];
      const [ref, got] = run(where, { a, b, transA, transB }, twoWay);
      close(ref, got, tol);
      if (!twoWay) {
        // The same products with explicit indices give the same result.
        const [ref2, got2] = run(where, { a, b, transA, transB }, true);
        close(ref2, got2, tol);
      }
    });

    it(`${dev}: irregular explicit batch indices (runs of one, repeats, reversed)`, () => {
      const [m, n, k] = [3, 4, 5];
      const ad = rand(3 * m * k), bd = rand(3 * k * n);
      const ia = new Int32Array([2, 1, 0, 0, 2, 2]), ib = new Int32Array([0, 0, 1, 2, 2, 1]);
      const ids = [upload(where, ad), upload(where, bd), empty(where, ia.length * m * n)];
      gpu!.matMul(ids[0], ids[1], ids[2], 3, 3, ia.length, m, n, k, false, false, 0, 0, ACT.linear, 0, ia, ib);
      const got = download(ids[2], ia.length * m * n);
      for (let o = 0; o < ia.length; o++) {
        const ref = tf.tidy(() => tf.matMul(tf.tensor(ad.subarray(ia[o] * m * k, (ia[o] + 1) * m * k), [m, k]),
          tf.tensor(bd.subarray(ib[o] * k * n, (ib[o] + 1) * k * n), [k, n])).dataSync() as Float32Array);
        close(ref, got.subarray(o * m * n, (o + 1) * m * n), tol);
      }
    });

    it.each(Object.keys(ACT) as Activation[])(`${dev}: fused bias [n] + %s`, (act) => {
      for (const [a, b, transB] of [[[2, 9, 13], [13, 11], false], [[9, 13], [11, 13], true]] as [number[], number[], boolean][]) {
        const n = transB ? b[b.length - 2] : b[b.length - 1];
        const [ref, got] = run(where, { a, b, transB, bias: [n], act, alpha: 0.1 }, false);
        close(ref, got, tol);
      }
      // activation alone, and a scalar bias
      let [ref, got] = run(where, { a: [6, 7], b: [7, 5], act, alpha: 0.3 }, false);
      close(ref, got, tol);
      [ref, got] = run(where, { a: [2, 6, 7], b: [2, 7, 5], bias: [1], act }, false);
      close(ref, got, tol);
    });

    it(`${dev}: k = 0 gives act(0 + bias); empty outputs are no-ops`, () => {
      const bias = new Float32Array([-1, 0.5, 2]);
      const ids = [upload(where, new Float32Array(0)), upload(where, new Float32Array(0)), empty(where, 2 * 2 * 3), upload(where, bias)];
      gpu!.matMul(ids[0], ids[1], ids[2], 1, 1, 2, 2, 3, 0, false, false, ids[3], 3, ACT.relu, 0);
      expect(Array.from(download(ids[2], 12))).toEqual([0, 0.5, 2, 0, 0.5, 2, 0, 0.5, 2, 0, 0.5, 2]);
      gpu!.matMul(ids[0], ids[1], ids[2], 1, 1, 2, 2, 3, 0, false, false, 0, 0, ACT.linear, 0);
      expect(Array.from(download(ids[2], 12))).toEqual(new Array(12).fill(0));
      const out = empty(where, 0);
      gpu!.matMul(ids[0], ids[1], out, 1, 1, 0, 2, 3, 0, false, false, 0, 0, ACT.linear, 0);
      gpu!.matMul(ids[0], ids[1], out, 1, 1, 4, 0, 3, 0, false, false, 0, 0, ACT.linear, 0);
    });
  }

  it.skipIf(!cudaReady)("cuda: tf32 and bf16 precision stay within their bounds of fp32", () => {
    const a = [64, 96], b = [96, 80];
    for (const [p, tol] of [[PRECISION.tf32, 5e-3], [PRECISION.bf16, 3e-2]] as const) {
      gpu!.setMatmulPrecision(p);
      const [ref, got] = run(WHERE.cuda, { a, b }, false);
      // |error| <= tol * sqrt(k) * max|operand|^2-ish; operands are in [-1, 1]
      close(ref, got, tol * Math.sqrt(96) / 4);
    }
    gpu!.setMatmulPrecision(PRECISION.fp32);
  });

  describe("argument errors", () => {
    it("rejects unknown buffer ids, too-small buffers and bad sizes with the argument named", () => {
      const a = upload(WHERE.host, rand(6)), b = upload(WHERE.host, rand(6)), out = empty(WHERE.host, 4);
      expect(() => gpu!.matMul(999999, b, out, 1, 1, 1, 2, 2, 3, false, false, 0, 0, 0, 0)).toThrow(/matMul a: argument 0 \(buffer id 999999\) is not a live buffer/);
      expect(() => gpu!.matMul(a, b, out, 1, 1, 1, 2, 2, 4, false, false, 0, 0, 0, 0)).toThrow(/matMul a: .*has 24 bytes, the kernel needs 32/);
      expect(() => gpu!.matMul(a, b, out, 1, 1, 2, 2, 2, 3, false, false, 0, 0, 0, 0)).toThrow(/matMul out: .*the kernel needs 32/);
      expect(() => gpu!.matMul(a, b, out, 1, 1, 1, 2, 2, 1.5, false, false, 0, 0, 0, 0)).toThrow(/matMul: k must be an integer/);
      expect(() => gpu!.matMul(a, b, out, 1, 1, 1, -2, 2, 3, false, false, 0, 0, 0, 0)).toThrow(/matMul: m must be an integer/);
      expect(() => gpu!.matMul(a, b, out, 0, 1, 1, 2, 2, 3, false, false, 0, 0, 0, 0)).toThrow(/batchA and batchB must be >= 1/);
      expect(() => gpu!.matMul(a, b, out, 1, 1, 1, 2, 2, 3, false, false, 0, 0, 9, 0)).toThrow(/unknown activation code 9/);
      expect(() => gpu!.matMul(a, b, a, 1, 1, 1, 2, 2, 3, false, false, 0, 0, 0, 0)).toThrow(/out must not be an input/);
      const bias = upload(WHERE.host, rand(3));
      expect(() => gpu!.matMul(a, b, out, 1, 1, 1, 2, 2, 3, false, false, bias, 3, 0, 0)).toThrow(/biasLen must be 1 or n \(2\), got 3/);
      expect(() => gpu!.matMul(a, b, out, 1, 1, 1, 2, 2, 3, false, false, bias, 4, 0, 0)).toThrow(/matMul bias: .*needs 16/);
      expect(() => (gpu!.matMul as (...args: unknown[]) => void)(a, b, out, 1, 1, 1)).toThrow(/expected 15 arguments/);
    });

    it("rejects batch indices that are out of range, short or not Int32Arrays", () => {
      const a = upload(WHERE.host, rand(12)), b = upload(WHERE.host, rand(12)), out = empty(WHERE.host, 8);
      const call = (ia: unknown, ib: unknown) => (gpu!.matMul as (...args: unknown[]) => void)(
        a, b, out, 2, 2, 2, 2, 2, 3, false, false, 0, 0, 0, 0, ia, ib);
      expect(() => call(new Int32Array([0, 2]), new Int32Array([0, 1]))).toThrow(/idxA\[1\]=2 .* out of \[0, batchA=2\)/);
      expect(() => call(new Int32Array([0, 1]), new Int32Array([-1, 1]))).toThrow(/idxB\[0\]=-1/);
      expect(() => call(new Int32Array([0]), new Int32Array([0]))).toThrow(/shorter than batchOut \(2\)/);
      expect(() => call(new Float32Array([0, 1]), new Int32Array([0, 1]))).toThrow(/must both be Int32Arrays/);
      expect(() => call(new Int32Array([0, 1]), undefined)).toThrow(/must both be Int32Arrays/);
    });
  });
});

describe.skipIf(!available || (rt?.compiled === true && rt.devices > 0))("cuda buffers on a machine without a usable GPU", () => {
  it("gpu.alloc on cuda fails with a clear error", () => {
    expect(() => gpu!.alloc(WHERE.cuda, 16)).toThrow(
      rt!.compiled ? /gpu\.alloc: no CUDA device is visible/ : /gpu\.alloc: this addon was built without CUDA/);
  });
});
