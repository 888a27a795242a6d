// Elementwise unary float32 ops (csrc/engine/unary.cc).
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

/** tfjs kernel name -> op code in unary.cc. */
export const UNARY_OPS: Record<string, number> = {
  Exp: 0, Log: 1, Neg: 2, Sqrt: 3, Rsqrt: 4, Square: 5, Abs: 6, Relu: 7, Sigmoid: 8, Tanh: 9, Reciprocal: 10,
};

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
