// Shared assertions of the op tests: tensors close to a reference, and running code without a
// backend's kernels (so the composite fallbacks run).
import * as tf from "@tensorflow/tfjs-core";
import { expect } from "vitest";

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Same shape, and max |actual - expected| <= atol + rtol * max|expected| (finite). */
export function expectClose(actual: tf.Tensor, expected: tf.Tensor, rtol: number, atol: number, what = ""): void {
  expect(actual.shape, what).toEqual(expected.shape);
  const a = actual.dataSync(), e = expected.dataSync();
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - e[i]));
  expect(Number.isFinite(err), what).toBe(true);
  expect(err, what).toBeLessThanOrEqual(atol + rtol * maxAbs(e));
}

/** Runs fn with the active backend's kernels of `names` unregistered (core's composites run). */
export function withoutKernels<T>(names: string[], fn: () => T): T {
  const cfgs = names.map((n) => tf.getKernel(n, tf.getBackend())).filter((k) => k != null);
  for (const k of cfgs) tf.unregisterKernel(k.kernelName, tf.getBackend());
  try {
    return fn();
  } finally {
    for (const k of cfgs) tf.registerKernel(k);
  }
}
