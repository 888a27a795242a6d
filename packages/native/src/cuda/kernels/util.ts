// Shared plumbing of the cuda kernels: argument types, shapes and strides, kernel configs.
import * as tf from "@tensorflow/tfjs-core";
import type { CudaBackend } from "../backend.js";

/** Backend name the kernels register under. */
export const CUDA_BACKEND = "cuda";

export type CudaKernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: CudaBackend; attrs?: tf.NamedAttrMap };
export type CudaKernelFunc = (args: CudaKernelArgs) => tf.TensorInfo | tf.TensorInfo[];

export function cudaKernel(kernelName: string, kernelFunc: CudaKernelFunc): tf.KernelConfig {
  return { kernelName, backendName: CUDA_BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

export function size(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of `shape`. */
export function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Row-major strides of `shape` laid against `outShape` (right-aligned), 0 on broadcast axes. */
export function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const off = outShape.length - shape.length;
  const st = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d + off] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return st;
}

/**
 * Merges adjacent axes that are contiguous in the output and in every operand (same relation
 * of strides), so that common broadcasts ([B,N,D] + [D]) reach the addon at rank 2 or less and
 * any rank above 8 that collapses still runs.
 */
export function collapseAxes(shape: number[], operandStrides: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = operandStrides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue; // size-1 axes contribute nothing
    const last = outShape.length - 1;
    if (last >= 0 && operandStrides.every((st, i) => outStrides[i][last] === st[d] * shape[d])) {
      outShape[last] *= shape[d];
      operandStrides.forEach((st, i) => (outStrides[i][last] = st[d]));
    } else {
      outShape.push(shape[d]);
      operandStrides.forEach((st, i) => outStrides[i].push(st[d]));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: operandStrides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/** The operand itself when its dtype is already `dtype`, else a cast copy (caller disposes it if `owned`). */
export function castTo(backend: CudaBackend, t: tf.TensorInfo, dtype: "float32" | "int32"): { t: tf.TensorInfo; owned: boolean } {
  if (t.dtype === dtype) return { t, owned: false };
  const out = backend.makeOutput(t.shape, dtype);
  const n = size(t.shape);
  if (n > 0) backend.gpu.cast(backend.bufferOf(t), backend.bufferOf(out), n, dtypeCodeOf(t.dtype), dtypeCodeOf(dtype));
  return { t: out, owned: true };
}

export function dtypeCodeOf(dtype: tf.DataType): 0 | 1 | 2 {
  if (dtype === "float32") return 0;
  if (dtype === "int32") return 1;
  if (dtype === "bool") return 2;
  throw new Error(`cuda backend: dtype ${dtype} is not supported`);
}

/** Throws the clear error for dtypes the backend does not hold. */
export function assertSupported(kernel: string, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== "float32" && t.dtype !== "int32" && t.dtype !== "bool") {
      throw new Error(`cuda backend: ${kernel} does not support dtype ${t.dtype}`);
    }
  }
}
