// Transpose by a permutation (gpu.transpose).
import type * as tf from "@tensorflow/tfjs-core";
import { assertSupported, cudaKernel, size, type CudaKernelArgs } from "./util.js";

/** x transposed by `perm` into a new tensor (axes of size 1 dropped first, so rank > 8 often still fits). */
export function transposeOp(backend: CudaKernelArgs["backend"], x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  const outShape = perm.map((p) => x.shape[p]);
  const out = backend.makeOutput(outShape, x.dtype);
  const n = size(x.shape);
  if (n === 0) return out;
  // Size-1 axes do not move data.
  const kept = x.shape.map((_, d) => d).filter((d) => x.shape[d] !== 1);
  const rank = new Map(kept.map((d, i) => [d, i]));
  const shape = kept.map((d) => x.shape[d]);
  const p = perm.filter((d) => rank.has(d)).map((d) => rank.get(d)!);
  if (shape.length === 0 || p.every((d, i) => d === i)) {
    backend.gpu.copy(backend.bufferOf(out), 0, backend.bufferOf(x), 0, n * 4);
  } else {
    if (shape.length > 8) throw new Error(`cuda backend: Transpose of rank ${shape.length} (at most 8)`);
    backend.gpu.transpose(backend.bufferOf(x), backend.bufferOf(out), shape, p);
  }
  return out;
}

const transpose = cudaKernel("Transpose", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  assertSupported("Transpose", inputs.x);
  return transposeOp(backend, inputs.x, attrs?.perm as number[]);
});

export const transposeKernelConfigs: tf.KernelConfig[] = [transpose];
