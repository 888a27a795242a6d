// AdamWUpdate and EmaUpdate, core's fused optimizer ops (docs/ops.md): one addon call each.
import type * as tf from "@tensorflow/tfjs-core";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

const adamWUpdate = cudaKernel("AdamWUpdate", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { param, grad, m, v } = inputs;
  const a = attrs as Record<string, number>;
  const n = size(param.shape);
  const outs = [backend.makeOutput(param.shape, "float32"), backend.makeOutput(param.shape, "float32"), backend.makeOutput(param.shape, "float32")];
  if (n > 0) {
    backend.gpu.adamW(backend.bufferOf(param), backend.bufferOf(grad), backend.bufferOf(m), backend.bufferOf(v),
      backend.bufferOf(outs[0]), backend.bufferOf(outs[1]), backend.bufferOf(outs[2]), n,
      a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.stepSize, a.sqrtBc2);
  }
  return outs;
});

const emaUpdate = cudaKernel("EmaUpdate", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { target, source } = inputs;
  const n = size(target.shape);
  const out = backend.makeOutput(target.shape, "float32");
  if (n > 0) backend.gpu.ema(backend.bufferOf(target), backend.bufferOf(source), backend.bufferOf(out), n, (attrs as { momentum: number }).momentum);
  return out;
});

export const optimKernelConfigs: tf.KernelConfig[] = [adamWUpdate, emaUpdate];
