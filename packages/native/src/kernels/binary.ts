// Elementwise binary float32 ops with broadcasting (csrc/engine/binary.cc) and AddN.
import * as tf from "@tensorflow/tfjs-core";
import { allocOutput, broadcastStrides, f32, output, size, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";
import { BINARY } from "../cuda/addon.js";

/** tfjs kernel name -> op code: the ops binary.cc implements, coded as the shared table (BINARY). */
export const BINARY_OPS: Record<string, number> = {
  Add: BINARY.Add, Sub: BINARY.Sub, Multiply: BINARY.Mul, RealDiv: BINARY.Div, Maximum: BINARY.Max, Minimum: BINARY.Min,
  SquaredDifference: BINARY.SquaredDifference,
};

export function binaryImpl(op: number) {
  return ({ inputs, backend }: KernelArgs, addon: Addon): tf.TensorInfo | null => {
    const { a, b } = inputs;
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (av === null || bv === null) return null;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = allocOutput(size(outShape));
    if (out.length > 0) {
      const shape = outShape.length === 0 ? [1] : outShape;
      addon.binary(op, av, bv, out, shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
    }
    return output(backend, outShape, out);
  };
}

export function addNImpl({ inputs, backend }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const ts = Object.values(inputs);
  if (ts.length === 0) return null;
  const vals: Float32Array[] = [];
  for (const t of ts) {
    const v = f32(backend, t);
    if (v === null || !tf.util.arraysEqual(t.shape, ts[0].shape)) return null;
    vals.push(v);
  }
  const out = allocOutput(size(ts[0].shape));
  addon.addN(out, vals);
  return output(backend, ts[0].shape, out);
}

export const binaryKernels: Record<string, NativeKernel> = {
  ...Object.fromEntries(Object.entries(BINARY_OPS).map(([name, op]) => [name, binaryImpl(op)])),
  AddN: addNImpl,
};
