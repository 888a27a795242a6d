// Shared plumbing for the native kernels: typed-array access on the CPU backend's storage,
// output allocation, and falling back to the tfjs cpu kernel for cases the addon does not cover.
import * as tf from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { Addon } from "../addon.js";
import { POOL_MIN_ELEMENTS, pooledOutput } from "./pool.js";

export type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: MathBackendCPU; attrs?: tf.NamedAttrMap };
export type NativeKernel = (args: KernelArgs, addon: Addon) => tf.TensorInfo | tf.TensorInfo[] | null;

/** The Float32Array behind a float32 tensor, or null (other dtypes go to the cpu kernel). */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== "float32") return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

/**
 * An output array the kernel will overwrite entirely. Large ones come uninitialised, from the
 * output pool (./pool.ts) or Buffer.allocUnsafeSlow (malloc, not calloc): V8's zero-fill would
 * be a single-threaded pass over every output before the multithreaded kernel writes it again.
 */
export function allocOutput(n: number): Float32Array {
  if (n < POOL_MIN_ELEMENTS) return new Float32Array(n);
  return pooledOutput(n);
}

export function output(backend: MathBackendCPU, shape: number[], values: Float32Array): tf.TensorInfo {
  return backend.makeTensorInfo(shape, "float32", values);
}

export function size(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of `shape` laid against `outShape` (right-aligned), 0 on broadcast axes. */
export function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const off = outShape.length - shape.length;
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d + off] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

/**
 * Makes a KernelConfig for `backendName` that runs `impl` and, when impl returns null (a dtype
 * or layout it does not handle), the kernel that was registered for "cpu".
 */
export function nativeKernel(kernelName: string, backendName: string, impl: NativeKernel, addon: Addon): tf.KernelConfig {
  const cpu = tf.getKernel(kernelName, "cpu");
  const fallback = cpu?.kernelFunc;
  return {
    kernelName,
    backendName,
    kernelFunc: (args) => {
      const out = impl(args as unknown as KernelArgs, addon);
      if (out !== null) return out;
      if (fallback === undefined) throw new Error(`native ${kernelName}: unsupported input and no cpu kernel to fall back to`);
      return fallback(args);
    },
  };
}
