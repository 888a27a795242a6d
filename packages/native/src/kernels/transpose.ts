// Transpose by a permutation (csrc/engine/transpose.cc).
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

export function transposeImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const x = inputs.x;
  const xv = f32(backend, x);
  const perm = attrs?.perm as number[];
  if (xv === null || x.shape.length === 0 || x.shape.length > 8) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const out = allocOutput(xv.length);
  if (out.length > 0) addon.transpose(xv, out, x.shape, perm);
  return output(backend, outShape, out);
}

export const transposeKernels: Record<string, NativeKernel> = { Transpose: transposeImpl };
