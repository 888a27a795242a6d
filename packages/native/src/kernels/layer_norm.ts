// LayerNorm and LayerNormGrad over the last axis, the fused ops of @dilemma/core (docs/ops.md).
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

export function layerNormImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const xv = f32(backend, inputs.x);
  const g = f32(backend, inputs.gamma);
  const b = f32(backend, inputs.beta);
  if (xv === null || g === null || b === null || g.length === 0) return null;
  const d = g.length;
  const out = allocOutput(xv.length);
  addon.layerNorm(xv, g, b, out, xv.length / d, d, attrs?.eps as number);
  return output(backend, inputs.x.shape, out);
}

export function layerNormGradImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const dy = f32(backend, inputs.dy);
  const xv = f32(backend, inputs.x);
  const g = f32(backend, inputs.gamma);
  if (dy === null || xv === null || g === null || g.length === 0 || dy.length !== xv.length) return null;
  const d = g.length;
  const dx = allocOutput(xv.length);
  const dGamma = allocOutput(d);
  const dBeta = allocOutput(d);
  addon.layerNormGrad(dy, xv, g, dx, dGamma, dBeta, xv.length / d, d, attrs?.eps as number);
  return [output(backend, inputs.x.shape, dx), output(backend, [d], dGamma), output(backend, [d], dBeta)];
}

export const layerNormKernels: Record<string, NativeKernel> = { LayerNorm: layerNormImpl, LayerNormGrad: layerNormGradImpl };
