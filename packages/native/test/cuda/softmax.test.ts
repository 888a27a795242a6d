// gpu.softmax on host buffers (the CPU reference of the CUDA kernel) against tfjs cpu's softmax:
// row widths 1..2000 (both CUDA paths' sizes), large logits, -Infinity and NaN; argument errors.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { afterAll, describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { type GpuAddon } from "../../src/cuda/addon.js";
import { hostBuffers, onTfjsCpu, expectClose } from "./host_buffers.js";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.softmax === "function";
if (!ready) console.warn(`[cuda tests] gpu.softmax unavailable, skipped: ${loadError() ?? "not in this addon"}`);
const rt = ready ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0;

const rnd = lcg(777);
const randF = (n: number, scale: number) => Float32Array.from({ length: n }, () => (2 * rnd() - 1) * scale);

const { put, alloc, freeAll, onBoth } = hostBuffers(() => gpu!);
function softmax(x: Float32Array, rows: number, cols: number): Float32Array {
  const xi = put(x);
  const oi = alloc(rows * cols);
  gpu!.softmax(xi, oi, rows, cols);
  const out = new Float32Array(rows * cols);
  if (out.length > 0) gpu!.download(oi, out);
  return out;
}
const ref = (x: Float32Array, rows: number, cols: number) => tf.tidy(() => tf.softmax(tf.tensor2d(x, [rows, cols])).dataSync());

describe.skipIf(!ready)("gpu.softmax (host) vs tfjs cpu", () => {
  onTfjsCpu(freeAll);

  it.each([[1, 1], [1, 7], [3, 7], [16, 197], [5, 1024], [2, 1025], [3, 2000], [40, 3], [7, 1]])(
    "[%i, %i]", (rows, cols) => {
      for (const scale of [1, 30]) {
        const x = randF(rows * cols, scale);
        expectClose(ref(x, rows, cols), softmax(x, rows, cols), 1e-6, 1e-7, `[${rows},${cols}] scale ${scale}`);
      }
    });

  it("rows with -Infinity, all -Infinity, NaN, and +Infinity", () => {
    const cols = 5;
    const x = new Float32Array([
      0, -Infinity, 1, 2, -Infinity, // masked entries give 0
      -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, // all masked: NaN like tfjs
      1, NaN, 2, 3, 4, // a NaN poisons the row
      1, Infinity, 2, 3, 4, // +inf: inf - inf = NaN
      100, 100, 100, 100, 100,
    ]);
    const rows = x.length / cols;
    const got = softmax(x, rows, cols);
    expectClose(ref(x, rows, cols), got, 1e-6, 1e-7, "special values");
    expect(got[1]).toBe(0);
    expect(got[24]).toBeCloseTo(0.2, 6);
  });

  it("throws on bad ids, small buffers, negative sizes", () => {
    const x = put(randF(12, 1));
    const out = alloc(12);
    expect(() => gpu!.softmax(987654, out, 3, 4)).toThrow(/softmax/);
    expect(() => gpu!.softmax(x, 987654, 3, 4)).toThrow(/softmax/);
    expect(() => gpu!.softmax(x, out, 4, 4)).toThrow(/bytes/);
    expect(() => gpu!.softmax(x, alloc(11), 3, 4)).toThrow(/bytes/);
    expect(() => gpu!.softmax(x, out, -3, 4)).toThrow(/negative/);
    gpu!.softmax(x, out, 0, 4); // nothing to do
    // two bad arguments: the first error is thrown (a second throw while one is pending would abort node)
    expect(() => (gpu!.softmax as unknown as (...a: unknown[]) => void)(x, out)).toThrow(/argument 2 must be a number/);
    expect(() => (gpu!.batchNorm1d as unknown as (...a: unknown[]) => void)()).toThrow(/must be a number/);
  });
});

/** softmax on host and cuda buffers (outputs poisoned differently); returns [host, cuda]. */
function softmaxOnBoth(x: Float32Array, rows: number, cols: number): Float32Array[] {
  return onBoth([x], [x.length], ([xi], [oi]) => gpu!.softmax(xi, oi, rows, cols)).map(([out]) => out);
}

describe.skipIf(!cudaReady)("gpu.softmax: cuda kernel vs the host reference", () => {
  afterAll(() => {
    freeAll();
  });
  // Warp rows (cols <= 1024) and block rows.
  it.each([[1, 1], [3, 7], [64, 197], [5, 1024], [3, 1025], [2, 5000], [3000, 17]])("[%i, %i]", (rows, cols) => {
    for (const scale of [1, 30]) {
      const x = randF(rows * cols, scale);
      if (x.length > 40) {
        x[3] = -Infinity;
        x[x.length - 1] = NaN; // the last row becomes NaN on both
      }
      const [h, c] = softmaxOnBoth(x, rows, cols);
      expectClose(h, c, 1e-5, 1e-7, `cuda softmax [${rows},${cols}] scale ${scale}`);
    }
  });
});
