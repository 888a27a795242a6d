// BatchNorm1d and BatchNorm1dGrad (training mode), core's fused ops (docs/ops.md): one addon call each.
import type * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

const batchNorm1d = cudaKernel("BatchNorm1d", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { x, weight, bias, runningMean, runningVar } = inputs;
  const [B, C] = x.shape;
  if (size(x.shape) === 0) return runCpuFallback("BatchNorm1d", args);
  const buf = (t?: tf.TensorInfo) => (t === undefined ? 0 : backend.bufferOf(t));
  const outs = [backend.makeOutput([B, C], "float32"), backend.makeOutput([C], "float32"), backend.makeOutput([C], "float32")];
  backend.gpu.batchNorm1d(buf(x), buf(weight), buf(bias), buf(runningMean), buf(runningVar), buf(outs[0]), buf(outs[1]), buf(outs[2]),
    B, C, attrs?.eps as number, attrs?.momentum as number);
  return outs;
});

const batchNorm1dGrad = cudaKernel("BatchNorm1dGrad", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { dy, x, weight } = inputs;
  const [B, C] = x.shape;
  if (size(x.shape) === 0) return runCpuFallback("BatchNorm1dGrad", args);
  const outs = [backend.makeOutput([B, C], "float32")];
  if (weight !== undefined) outs.push(backend.makeOutput([C], "float32"), backend.makeOutput([C], "float32"));
  const buf = (t?: tf.TensorInfo) => (t === undefined ? 0 : backend.bufferOf(t));
  backend.gpu.batchNorm1dGrad(buf(dy), buf(x), buf(weight), buf(outs[0]), buf(outs[1]), buf(outs[2]), B, C, attrs?.eps as number);
  return outs;
});

export const batchNormKernelConfigs: tf.KernelConfig[] = [batchNorm1d, batchNorm1dGrad];
