// Buffers for the kernel tests: upload, allocate and read back through addon().gpu (host device
// unless told otherwise), remembering every id so a test's afterEach / afterAll frees them all.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, expect } from "vitest";
import { WHERE, type GpuAddon, type Where } from "../../src/cuda/addon.js";

export interface HostBuffers {
  /** A buffer holding `data` (at least 4 bytes, so empty inputs still get a valid id). */
  put(data: Float32Array | Int32Array, where?: Where): number;
  /** An uninitialised buffer of n 4-byte elements (at least one). */
  alloc(n: number, where?: Where): number;
  getF(id: number, n: number): Float32Array;
  getI(id: number, n: number): Int32Array;
  freeAll(): void;
  /**
   * Runs `call` on host and on cuda buffers holding the same inputs, returning each device's
   * outputs (read as float32). Outputs start as a different poison on each device, so an element
   * a kernel leaves unwritten shows as a mismatch.
   */
  onBoth(inputs: (Float32Array | Int32Array)[], outLens: number[], call: (ins: number[], outs: number[]) => void): Float32Array[][];
}

/** `gpu` is called lazily: suites that skip without the addon never touch it. */
export function hostBuffers(gpu: () => GpuAddon): HostBuffers {
  const live: number[] = [];
  const alloc = (bytes: number, where: Where = WHERE.host) => {
    const id = gpu().alloc(where, Math.max(4, bytes));
    live.push(id);
    return id;
  };
  const put = (data: Float32Array | Int32Array, where?: Where) => {
    const id = alloc(data.byteLength, where);
    if (data.length > 0) gpu().upload(id, data);
    return id;
  };
  const getF = (id: number, n: number) => {
    const out = new Float32Array(n);
    if (n > 0) gpu().download(id, out);
    return out;
  };
  return {
    put,
    alloc: (n, where) => alloc(4 * n, where),
    getF,
    getI(id, n) {
      const out = new Int32Array(n);
      if (n > 0) gpu().download(id, out);
      return out;
    },
    freeAll() {
      for (const id of live.splice(0)) gpu().free(id);
    },
    onBoth(inputs, outLens, call) {
      return ([WHERE.host, WHERE.cuda] as Where[]).map((where, k) => {
        const ins = inputs.map((a) => put(a, where));
        const outs = outLens.map((n) => put(new Float32Array(n).fill(k === 0 ? -777 : 555), where));
        call(ins, outs);
        return outs.map((id, i) => getF(id, outLens[i]));
      });
    },
  };
}

/**
 * For a suite comparing gpu.* on host buffers with core's kernels: run it on the tfjs cpu
 * backend (the reference), then restore the previous backend and free the suite's buffers.
 */
export function onTfjsCpu(freeAll: () => void): void {
  let prev = "";
  beforeAll(async () => {
    prev = tf.getBackend();
    await tf.setBackend("cpu");
  });
  afterAll(async () => {
    freeAll();
    if (prev) await tf.setBackend(prev);
  });
}

/** Elementwise |got - want| <= atol + rtol*|want|; NaN must meet NaN. Fails naming the first bad index. */
export function expectClose(want: ArrayLike<number>, got: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (!(Number.isNaN(w) && Number.isNaN(g))) expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
    } else if (!(Math.abs(w - g) <= atol + rtol * Math.abs(w))) expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
  }
}
