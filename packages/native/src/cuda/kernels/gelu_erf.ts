// GeluErf and GeluErfGrad, core's exact-GELU ops (docs/ops.md): one addon call each.
import type * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

const geluErf = cudaKernel("GeluErf", (args: CudaKernelArgs) => {
  const { inputs, backend } = args;
  const x = inputs.x;
  if (x.dtype !== "float32") return runCpuFallback("GeluErf", args);
  const out = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) backend.gpu.geluErf(backend.bufferOf(x), backend.bufferOf(out), n);
  return out;
});

const geluErfGrad = cudaKernel("GeluErfGrad", (args: CudaKernelArgs) => {
  const { inputs, backend } = args;
  const { dy, x } = inputs;
  const n = size(x.shape);
  if (x.dtype !== "float32" || dy.dtype !== "float32" || size(dy.shape) !== n) return runCpuFallback("GeluErfGrad", args);
  const out = backend.makeOutput(x.shape, "float32");
  if (n > 0) backend.gpu.geluErfGrad(backend.bufferOf(dy), backend.bufferOf(x), backend.bufferOf(out), n);
  return out;
});

export const geluErfKernelConfigs: tf.KernelConfig[] = [geluErf, geluErfGrad];
