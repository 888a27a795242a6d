// GeluErf and GeluErfGrad, the fused exact-GELU ops of @dilemma/core (docs/ops.md).
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

export function geluErfImpl({ inputs, backend }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const xv = f32(backend, inputs.x);
  if (xv === null) return null;
  const out = allocOutput(xv.length);
  addon.geluErf(xv, out);
  return output(backend, inputs.x.shape, out);
}

export function geluErfGradImpl({ inputs, backend }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const dy = f32(backend, inputs.dy);
  const xv = f32(backend, inputs.x);
  if (dy === null || xv === null || dy.length !== xv.length) return null;
  const out = allocOutput(xv.length);
  addon.geluErfGrad(dy, xv, out);
  return output(backend, inputs.x.shape, out);
}

export const geluErfKernels: Record<string, NativeKernel> = { GeluErf: geluErfImpl, GeluErfGrad: geluErfGradImpl };
