// Softmax over the last axis (gpu.softmax); other axes and dtypes run the cpu fallback.
import type * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

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

export const softmaxKernelConfigs: tf.KernelConfig[] = [softmax];
