// AdamWUpdate and EmaUpdate, core's fused multi-tensor optimizer ops (docs/ops.md): one addon
// call per step for every parameter (gpu.adamWMulti / gpu.emaMulti take the buffer ids and
// element counts as Float64Arrays).
import type * as tf from "@tensorflow/tfjs-core";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

const adamWUpdate = cudaKernel("AdamWUpdate", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const a = attrs as unknown as { lr: number; beta1: number; beta2: number; eps: number; stepSize: number; sqrtBc2: number; weightDecay: number[] };
  const count = a.weightDecay.length;
  const ids = new Float64Array(7 * count), sizes = new Float64Array(count);
  const outs: tf.TensorInfo[] = [];
  for (let k = 0; k < count; k++) {
    const param = inputs[`param${k}`];
    const o = [0, 1, 2].map(() => backend.makeOutput(param.shape, "float32"));
    outs.push(...o);
    sizes[k] = size(param.shape);
    const bufs = [param, inputs[`grad${k}`], inputs[`m${k}`], inputs[`v${k}`], ...o];
    for (let j = 0; j < 7; j++) ids[7 * k + j] = backend.bufferOf(bufs[j]);
  }
  backend.gpu.adamWMulti(ids, sizes, Float64Array.from(a.weightDecay), a.lr, a.beta1, a.beta2, a.eps, a.stepSize, a.sqrtBc2);
  return outs;
});

const emaUpdate = cudaKernel("EmaUpdate", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const count = Object.keys(inputs).length / 2;
  const ids = new Float64Array(3 * count), sizes = new Float64Array(count);
  const outs: tf.TensorInfo[] = [];
  for (let k = 0; k < count; k++) {
    const target = inputs[`target${k}`];
    const out = backend.makeOutput(target.shape, "float32");
    outs.push(out);
    sizes[k] = size(target.shape);
    ids[3 * k] = backend.bufferOf(target);
    ids[3 * k + 1] = backend.bufferOf(inputs[`source${k}`]);
    ids[3 * k + 2] = backend.bufferOf(out);
  }
  backend.gpu.emaMulti(ids, sizes, (attrs as { momentum: number }).momentum);
  return outs;
});

export const optimKernelConfigs: tf.KernelConfig[] = [adamWUpdate, emaUpdate];
