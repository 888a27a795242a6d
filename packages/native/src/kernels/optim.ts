// AdamWUpdate and EmaUpdate, core's fused multi-tensor optimizer ops (docs/ops.md), on
// csrc/engine/optim.cc (threaded, bit-identical to core's cpu kernels): one tfjs kernel per
// step, one addon call per parameter inside it. Measured (2-vCPU EPYC, vits16: 163 parameters,
// 23.9M elements): the update takes 108-143 ms, the 163 N-API calls ~0.35 ms (2.1 µs each), so
// one addon call for all parameters would save ~0.3%; not worth a second C++ entry point.
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

export function adamWUpdateImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const a = attrs as unknown as { lr: number; beta1: number; beta2: number; eps: number; stepSize: number; sqrtBc2: number; weightDecay: number[] };
  // every group's arrays first: a dtype or layout the addon does not take sends the whole step to the cpu kernel
  const arrays: Float32Array[][] = [];
  for (let k = 0; k < a.weightDecay.length; k++) {
    const p = f32(backend, inputs[`param${k}`]), g = f32(backend, inputs[`grad${k}`]), m = f32(backend, inputs[`m${k}`]), v = f32(backend, inputs[`v${k}`]);
    if (p === null || g === null || m === null || v === null || g.length !== p.length || m.length !== p.length || v.length !== p.length) return null;
    arrays.push([p, g, m, v]);
  }
  const outs: tf.TensorInfo[] = [];
  arrays.forEach(([p, g, m, v], k) => {
    const n = p.length;
    const pOut = allocOutput(n), mOut = allocOutput(n), vOut = allocOutput(n);
    addon.adamW(p, g, m, v, pOut, mOut, vOut, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay[k], a.stepSize, a.sqrtBc2);
    const shape = inputs[`param${k}`].shape;
    outs.push(output(backend, shape, pOut), output(backend, shape, mOut), output(backend, shape, vOut));
  });
  return outs;
}

export function emaUpdateImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const pairs: Float32Array[][] = [];
  for (let k = 0; `target${k}` in inputs; k++) {
    const t = f32(backend, inputs[`target${k}`]), s = f32(backend, inputs[`source${k}`]);
    if (t === null || s === null || s.length !== t.length) return null;
    pairs.push([t, s]);
  }
  const momentum = (attrs as { momentum: number }).momentum;
  return pairs.map(([t, s], k) => {
    const out = allocOutput(t.length);
    addon.ema(t, s, out, momentum);
    return output(backend, inputs[`target${k}`].shape, out);
  });
}

export const optimKernels: Record<string, NativeKernel> = { AdamWUpdate: adamWUpdateImpl, EmaUpdate: emaUpdateImpl };
