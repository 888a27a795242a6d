// Slice, SplitV, Concat and PadV2 as strided copies (csrc/engine/strided_copy.cc). tfjs cpu's
// versions index element by element through locToIndex, which dominated a training step.
import * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, size, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

function sliceValues(addon: Addon, xv: Float32Array, xShape: number[], begin: number[], sz: number[]): Float32Array {
  const st = strides(xShape);
  let off = 0;
  for (let d = 0; d < begin.length; d++) off += begin[d] * st[d];
  const out = allocOutput(size(sz));
  if (out.length > 0) addon.stridedCopy(xv, out, sz, off, st, 0, strides(sz));
  return out;
}

export function sliceImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const x = inputs.x;
  const xv = f32(backend, x);
  if (xv === null || x.shape.length === 0 || x.shape.length > 8) return null;
  const [begin, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs?.begin as number[], attrs?.size as number[]);
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin, sz);
  // Contiguous slices are views in tfjs cpu (no copy): keep that path.
  if (tf.slice_util.isSliceContinous(x.shape, begin, sz)) return null;
  return output(backend, sz, sliceValues(addon, xv, x.shape, begin, sz));
}

export function splitVImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const x = inputs.x;
  const xv = f32(backend, x);
  if (xv === null || x.shape.length === 0 || x.shape.length > 8) return null;
  const axis = tf.util.parseAxisParam(attrs?.axis as number, x.shape)[0];
  const splits = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs?.numOrSizeSplits as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return splits.map((s) => {
    const sz = [...x.shape];
    sz[axis] = s;
    const out = output(backend, sz, sliceValues(addon, xv, x.shape, begin, sz));
    begin[axis] += s;
    return out;
  });
}

export function concatImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const all = Object.values(inputs);
  if (all.length === 0) return null;
  const axis = tf.util.parseAxisParam(attrs?.axis as number, all[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
  if (outShape.length === 0 || outShape.length > 8) return null;
  const ts = all.filter((t) => size(t.shape) > 0);
  const vals: Float32Array[] = [];
  for (const t of ts) {
    const v = f32(backend, t);
    if (v === null) return null;
    vals.push(v);
  }
  const out = allocOutput(size(outShape));
  const ost = strides(outShape);
  let off = 0;
  ts.forEach((t, i) => {
    addon.stridedCopy(vals[i], out, t.shape, 0, strides(t.shape), off * ost[axis], ost);
    off += t.shape[axis];
  });
  return output(backend, outShape, out);
}

export function padImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const x = inputs.x;
  const xv = f32(backend, x);
  if (xv === null || x.shape.length === 0 || x.shape.length > 8) return null;
  const paddings = attrs?.paddings as [number, number][];
  const constantValue = (attrs?.constantValue as number | undefined) ?? 0;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = allocOutput(size(outShape));
  out.fill(constantValue); // uninitialised memory: the border must be written
  const ost = strides(outShape);
  let off = 0;
  for (let d = 0; d < outShape.length; d++) off += paddings[d][0] * ost[d];
  if (xv.length > 0) addon.stridedCopy(xv, out, x.shape, 0, strides(x.shape), off, ost);
  return output(backend, outShape, out);
}

export function tileImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const x = inputs.x;
  const xv = f32(backend, x);
  const reps = attrs?.reps as number[];
  const r = x.shape.length;
  // As a strided copy over [reps_0, s_0, reps_1, s_1, ...]: the source stride of a rep axis is 0.
  if (xv === null || r === 0 || r > 4 || reps.length !== r) return null;
  const outShape = x.shape.map((s, d) => s * reps[d]);
  const out = allocOutput(size(outShape));
  if (out.length === 0) return output(backend, outShape, out);
  const xst = strides(x.shape);
  const ost = strides(outShape);
  const shape: number[] = [];
  const src: number[] = [];
  const dst: number[] = [];
  for (let d = 0; d < r; d++) {
    shape.push(reps[d], x.shape[d]);
    src.push(0, xst[d]);
    dst.push(x.shape[d] * ost[d], ost[d]);
  }
  addon.stridedCopy(xv, out, shape, 0, src, 0, dst);
  return output(backend, outShape, out);
}

export const copyKernels: Record<string, NativeKernel> = { Slice: sliceImpl, SplitV: splitVImpl, Concat: concatImpl, PadV2: padImpl, Tile: tileImpl };
