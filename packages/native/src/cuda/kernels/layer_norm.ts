// LayerNorm and LayerNormGrad over the last axis, core's fused ops (docs/ops.md): one addon call each.
import type * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

const layerNorm = cudaKernel("LayerNorm", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { x, gamma, beta } = inputs;
  const d = size(gamma.shape);
  if (d === 0 || size(x.shape) === 0) return runCpuFallback("LayerNorm", args);
  const out = backend.makeOutput(x.shape, "float32");
  backend.gpu.layerNorm(backend.bufferOf(x), backend.bufferOf(gamma), backend.bufferOf(beta), backend.bufferOf(out),
    size(x.shape) / d, d, attrs?.eps as number);
  return out;
});

const layerNormGrad = cudaKernel("LayerNormGrad", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { dy, x, gamma } = inputs;
  const d = size(gamma.shape);
  if (d === 0 || size(x.shape) === 0) return runCpuFallback("LayerNormGrad", args);
  const dx = backend.makeOutput(x.shape, "float32");
  const dGamma = backend.makeOutput([d], "float32");
  const dBeta = backend.makeOutput([d], "float32");
  backend.gpu.layerNormGrad(backend.bufferOf(dy), backend.bufferOf(x), backend.bufferOf(gamma), backend.bufferOf(dx),
    backend.bufferOf(dGamma), backend.bufferOf(dBeta), size(x.shape) / d, d, attrs?.eps as number);
  return [dx, dGamma, dBeta];
});

export const layerNormKernelConfigs: tf.KernelConfig[] = [layerNorm, layerNormGrad];
