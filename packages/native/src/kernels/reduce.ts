// Sum / Max / Min / Mean over a contiguous run of axes (csrc/engine/reduce.cc); other axis sets
// and dtypes go to the cpu kernel.
import * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, size, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";
import { REDUCE } from "../cuda/addon.js";

/** tfjs kernel name -> op code (the shared table, REDUCE) in reduce.cc; Mean is Sum, then divided by the count. */
export const REDUCE_OPS = { Sum: REDUCE.Sum, Max: REDUCE.Max, Min: REDUCE.Min, Mean: REDUCE.Sum } as const;

export function reduceImpl(kernel: keyof typeof REDUCE_OPS) {
  return ({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null => {
    const x = inputs.x;
    const xv = f32(backend, x);
    if (xv === null) return null;
    const axisAttr = (kernel === "Max" ? attrs?.reductionIndices : attrs?.axis) as number | number[];
    const keepDims = (attrs?.keepDims as boolean | undefined) ?? false;
    const axes = tf.util.parseAxisParam(axisAttr, x.shape).sort((p, q) => p - q);
    if (axes.length === 0 || x.shape.length === 0) return null;
    for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outer = size(x.shape.slice(0, first));
    const r = size(x.shape.slice(first, last + 1));
    const inner = size(x.shape.slice(last + 1));
    if (r === 0) return null;
    const out = allocOutput(outer * inner);
    addon.reduce(REDUCE_OPS[kernel], xv, out, outer, r, inner);
    if (kernel === "Mean") for (let i = 0; i < out.length; i++) out[i] /= r;
    let outShape = x.shape.filter((_, d) => d < first || d > last);
    if (keepDims) outShape = tf.backend_util.expandShapeToKeepDim(outShape, axes);
    return output(backend, outShape, out);
  };
}

export const reduceKernels: Record<string, NativeKernel> = { Sum: reduceImpl("Sum"), Max: reduceImpl("Max"), Min: reduceImpl("Min"), Mean: reduceImpl("Mean") };
