// Softmax over the last axis (csrc/engine/softmax.cc).
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

export function softmaxImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const x = inputs.logits;
  const xv = f32(backend, x);
  const rank = x.shape.length;
  const dim = (attrs?.dim as number | undefined) ?? -1;
  if (xv === null || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
  const cols = x.shape[rank - 1];
  if (cols === 0) return null;
  const out = allocOutput(xv.length);
  addon.softmax(xv, out, xv.length / cols, cols);
  return output(backend, x.shape, out);
}

export const softmaxKernels: Record<string, NativeKernel> = { Softmax: softmaxImpl };
