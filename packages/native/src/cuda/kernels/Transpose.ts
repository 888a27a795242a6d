// Transpose by a permutation (gpu.transpose), and Softmax over the last axis (gpu.softmax).
import type * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
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

const softmax = cudaKernel("Softmax", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const x = inputs.logits;
  const rank = x.shape.length;
  const dim = (attrs?.dim as number | undefined) ?? -1;
  if (x.dtype !== "float32" || rank === 0 || (dim !== -1 && dim !== rank - 1)) return runCpuFallback("Softmax", args);
  const out = backend.makeOutput(x.shape, "float32");
  const cols = x.shape[rank - 1];
  const n = size(x.shape);
  if (n > 0) backend.gpu.softmax(backend.bufferOf(x), backend.bufferOf(out), n / cols, cols);
  return out;
});

export const transposeKernelConfigs: tf.KernelConfig[] = [transpose, softmax];
