// AdamWUpdate and EmaUpdate, core's fused optimizer ops, on csrc/engine/optim.cc (threaded,
// bit-identical to core's cpu kernels).
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

export function adamWUpdateImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const p = f32(backend, inputs.param), g = f32(backend, inputs.grad), m = f32(backend, inputs.m), v = f32(backend, inputs.v);
  if (p === null || g === null || m === null || v === null || g.length !== p.length || m.length !== p.length || v.length !== p.length) return null;
  const a = attrs as Record<string, number>;
  const n = p.length;
  const pOut = allocOutput(n), mOut = allocOutput(n), vOut = allocOutput(n);
  addon.adamW(p, g, m, v, pOut, mOut, vOut, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.stepSize, a.sqrtBc2);
  const shape = inputs.param.shape;
  return [output(backend, shape, pOut), output(backend, shape, mOut), output(backend, shape, vOut)];
}

export function emaUpdateImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const t = f32(backend, inputs.target), s = f32(backend, inputs.source);
  if (t === null || s === null || s.length !== t.length) return null;
  const out = allocOutput(t.length);
  addon.ema(t, s, out, (attrs as { momentum: number }).momentum);
  return output(backend, inputs.target.shape, out);
}

export const optimKernels: Record<string, NativeKernel> = { AdamWUpdate: adamWUpdateImpl, EmaUpdate: emaUpdateImpl };
