// Elementwise unary float32 ops (csrc/engine/unary.cc).
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";
import { UNARY } from "../cuda/addon.js";

/** tfjs kernel name -> op code: the ops unary.cc implements, coded as the shared table (UNARY). */
export const UNARY_OPS: Record<string, number> = Object.fromEntries(
  (["Exp", "Log", "Neg", "Sqrt", "Rsqrt", "Square", "Abs", "Relu", "Sigmoid", "Tanh", "Reciprocal"] as const)
    .map((name) => [name, UNARY[name]]),
);

export function unaryImpl(op: number) {
  return ({ inputs, backend }: KernelArgs, addon: Addon): tf.TensorInfo | null => {
    const x = inputs.x;
    const xv = f32(backend, x);
    if (xv === null) return null;
    const out = allocOutput(xv.length);
    addon.unary(op, xv, out);
    return output(backend, x.shape, out);
  };
}

export const unaryKernels: Record<string, NativeKernel> = Object.fromEntries(
  Object.entries(UNARY_OPS).map(([name, op]) => [name, unaryImpl(op)]),
);
