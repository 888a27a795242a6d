// The native backend's output pool (src/kernels/pool.ts): a large output array is reused once no
// tensor refers to its buffer, never while a view of it is alive, and never after it was read out.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { isAvailable, loadError } from "../src/index.js";
import { useNativeBackend } from "../src/backend.js";
import { POOL_MIN_ELEMENTS, clearPool, poolStats } from "../src/kernels/pool.js";

const available = isAvailable();
if (!available) console.warn(`[native tests] pool tests skipped: ${loadError()}`);
const N = POOL_MIN_ELEMENTS * 2;
const values = (t: tf.Tensor) => (tf.backend() as unknown as { data: tf.DataStorage<{ values: Float32Array }> }).data.get(t.dataId).values;

describe.skipIf(!available)("native output pool", () => {
  beforeAll(async () => {
    await useNativeBackend();
  });

  it("reuses a disposed output's array for the next output of that length", () => {
    clearPool();
    const x = tf.fill([N], 2);
    const y = tf.exp(x); // a native unary kernel: a pooled output
    const arr = values(y);
    y.dispose();
    expect(poolStats().freeArrays).toBe(1);
    const z = tf.neg(x);
    expect(values(z).buffer).toBe(arr.buffer); // same memory, new contents
    expect(z.dataSync()[N - 1]).toBe(-2);
    tf.dispose([x, z]);
  });

  it("never reuses an array that was read out, or one a live view (slice) still shares", () => {
    clearPool();
    const x = tf.fill([N], 3);
    const y = tf.exp(x);
    const read = y.dataSync();
    y.dispose();
    expect(poolStats().freeArrays).toBe(0); // escaped through dataSync
    const w = tf.neg(x);
    expect(values(w).buffer).not.toBe(read.buffer);
    expect(read[0]).toBeCloseTo(Math.exp(3), 4);
    // A reshape shares the dataId: disposing one reference keeps the array.
    const r = tf.reshape(w, [2, N / 2]);
    w.dispose();
    expect(poolStats().freeArrays).toBe(0);
    r.dispose();
    expect(poolStats().freeArrays).toBe(1);
    tf.dispose(x);
  });

  it("a training-like loop keeps its results right with reuse", () => {
    clearPool();
    const x = tf.randomNormal([64, 512], 0, 1, "float32", 3);
    const w = tf.randomNormal([512, 512], 0, 0.05, "float32", 4);
    const ref = tf.tidy(() => tf.sum(tf.relu(tf.matMul(tf.relu(tf.matMul(x, w)), w))).dataSync()[0]);
    for (let i = 0; i < 5; i++) {
      const got = tf.tidy(() => tf.sum(tf.relu(tf.matMul(tf.relu(tf.matMul(x, w)), w))).dataSync()[0]);
      expect(got).toBe(ref);
    }
    expect(poolStats().freeArrays).toBeGreaterThan(0);
    tf.dispose([x, w]);
  });
});
