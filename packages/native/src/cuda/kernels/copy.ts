// Data movement: views sharing a buffer (Reshape, Identity, ExpandDims, same-dtype Cast; tf.squeeze is a Reshape),
// strided copies (Slice, SplitV, Concat, PadV2, Tile, Pack, Unpack), Cast, Fill, ZerosLike, OnesLike.
import * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { assertSupported, collapseAxes, cudaKernel, dtypeCodeOf, size, strides, type CudaKernelArgs } from "./util.js";

type Backend = CudaKernelArgs["backend"];

/** dst[dstOffset + Σ i·dstSt] = src[srcOffset + Σ i·srcSt] over shape, with axes merged where both layouts allow. */
export function stridedCopy(backend: Backend, src: tf.TensorInfo, dst: tf.TensorInfo, shape: number[], srcOffset: number,
  srcSt: number[], dstOffset: number, dstSt: number[]): void {
  if (size(shape) === 0) return;
  const c = collapseAxes(shape, [srcSt, dstSt]);
  if (c.shape.length === 1 && c.strides[0][0] === 1 && c.strides[1][0] === 1) {
    backend.gpu.copy(backend.bufferOf(dst), dstOffset * 4, backend.bufferOf(src), srcOffset * 4, c.shape[0] * 4);
    return;
  }
  if (c.shape.length > 8) throw new Error(`cuda backend: strided copy of rank ${c.shape.length} (at most 8)`);
  backend.gpu.stridedCopy(backend.bufferOf(src), backend.bufferOf(dst), c.shape, srcOffset, c.strides[0], dstOffset, c.strides[1]);
}

function sliceOp(backend: Backend, x: tf.TensorInfo, begin: number[], sz: number[]): tf.TensorInfo {
  const out = backend.makeOutput(sz, x.dtype);
  const st = strides(x.shape);
  let off = 0;
  for (let d = 0; d < begin.length; d++) off += begin[d] * st[d];
  stridedCopy(backend, x, out, sz, off, st, 0, strides(sz));
  return out;
}

const reshape = cudaKernel("Reshape", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const x = inputs.x;
  const xSize = size(x.shape);
  const shape = tf.util.inferFromImplicitShape(attrs?.shape as number[], xSize);
  tf.util.assert(size(shape) === xSize, () => `The new shape (${shape}) has ${size(shape)} elements and the old ` +
    `shape (${x.shape}) has ${xSize} elements. The new shape and old shape must have the same number of elements.`);
  return backend.makeView(x, shape);
});

const identity = cudaKernel("Identity", ({ inputs, backend }: CudaKernelArgs) => backend.makeView(inputs.x, inputs.x.shape));

const expandDims = cudaKernel("ExpandDims", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const x = inputs.input;
  const rank = x.shape.length;
  let dim = attrs?.dim as number;
  if (dim < 0) {
    tf.util.assert(-(rank + 1) <= dim, () => `Axis must be in the interval [${-(rank + 1)}, ${rank}]`);
    dim = rank + dim + 1;
  }
  const shape = [...x.shape];
  shape.splice(dim, 0, 1);
  return backend.makeView(x, shape);
});

const cast = cudaKernel("Cast", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const x = inputs.x;
  const dtype = attrs?.dtype as tf.DataType;
  if (dtype === x.dtype) return backend.makeView(x, x.shape);
  assertSupported("Cast", x);
  if (dtype !== "float32" && dtype !== "int32" && dtype !== "bool") {
    throw new Error(`cuda backend: Cast to ${dtype} is not supported`);
  }
  const out = backend.makeOutput(x.shape, dtype);
  const n = size(x.shape);
  if (n > 0) backend.gpu.cast(backend.bufferOf(x), backend.bufferOf(out), n, dtypeCodeOf(x.dtype), dtypeCodeOf(dtype));
  return out;
});

export function fillOp(backend: Backend, shape: number[], value: number, dtype: tf.DataType): tf.TensorInfo {
  const out = backend.makeOutput(shape, dtype);
  const n = size(shape);
  if (n > 0) backend.gpu.fill(backend.bufferOf(out), n, dtype === "bool" ? (value ? 1 : 0) : value, dtypeCodeOf(dtype));
  return out;
}

const fill = cudaKernel("Fill", ({ backend, attrs }: CudaKernelArgs) => {
  const dtype = (attrs?.dtype as tf.DataType | undefined) ?? "float32";
  if (dtype === "string") throw new Error("cuda backend: Fill with dtype string is not supported");
  return fillOp(backend, attrs?.shape as number[], attrs?.value as number, dtype);
});

const zerosLike = cudaKernel("ZerosLike", ({ inputs, backend }: CudaKernelArgs) => {
  assertSupported("ZerosLike", inputs.x);
  return fillOp(backend, inputs.x.shape, 0, inputs.x.dtype);
});

const onesLike = cudaKernel("OnesLike", ({ inputs, backend }: CudaKernelArgs) => {
  assertSupported("OnesLike", inputs.x);
  return fillOp(backend, inputs.x.shape, 1, inputs.x.dtype);
});

const slice = cudaKernel("Slice", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const x = inputs.x;
  assertSupported("Slice", x);
  const [begin, sz] = tf.slice_util.parseSliceParams(x, attrs?.begin as number[], attrs?.size as number[]);
  tf.slice_util.assertParamsValid(x, begin, sz);
  return sliceOp(backend, x, begin, sz);
});

const splitV = cudaKernel("SplitV", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const x = inputs.x;
  assertSupported("SplitV", x);
  const axis = tf.util.parseAxisParam(attrs?.axis as number, x.shape)[0];
  const splits = tf.backend_util.prepareSplitSize(x, attrs?.numOrSizeSplits as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return splits.map((s) => {
    const sz = [...x.shape];
    sz[axis] = s;
    const out = sliceOp(backend, x, begin, sz);
    begin[axis] += s;
    return out;
  });
});

const concat = cudaKernel("Concat", (args: CudaKernelArgs) => {
  const { backend, attrs } = args;
  const all = Object.values(args.inputs);
  assertSupported("Concat", ...all);
  const axis = tf.util.parseAxisParam(attrs?.axis as number, all[0].shape)[0];
  tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
  const outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
  const dtype = all[0].dtype;
  if (all.some((t) => t.dtype !== dtype)) return runCpuFallback("Concat", args);
  const out = backend.makeOutput(outShape, dtype);
  const ost = strides(outShape);
  let off = 0;
  for (const t of all) {
    stridedCopy(backend, t, out, t.shape, 0, strides(t.shape), off * (ost[axis] ?? 1), ost);
    off += t.shape[axis] ?? 0;
  }
  return out;
});

const padV2 = cudaKernel("PadV2", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const x = inputs.x;
  assertSupported("PadV2", x);
  const paddings = attrs?.paddings as [number, number][];
  const constantValue = (attrs?.constantValue as number | undefined) ?? 0;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = fillOp(backend, outShape, constantValue, x.dtype);
  const ost = strides(outShape);
  let off = 0;
  for (let d = 0; d < outShape.length; d++) off += paddings[d][0] * ost[d];
  stridedCopy(backend, x, out, x.shape, 0, strides(x.shape), off, ost);
  return out;
});

const tile = cudaKernel("Tile", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const x = inputs.x;
  assertSupported("Tile", x);
  const reps = attrs?.reps as number[];
  const r = x.shape.length;
  tf.util.assert(reps.length === r, () => `Error in tile: rank of reps (${reps.length}) must match rank of x (${r}).`);
  const outShape = x.shape.map((s, d) => s * reps[d]);
  const out = backend.makeOutput(outShape, x.dtype);
  if (size(outShape) === 0) return out;
  // A strided copy over [reps_0, s_0, reps_1, s_1, ...] whose source stride on rep axes is 0.
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
  if (collapseAxes(shape, [src, dst]).shape.length > 8) {
    backend.disposeIntermediateTensorInfo(out);
    return runCpuFallback("Tile", args);
  }
  stridedCopy(backend, x, out, shape, 0, src, 0, dst);
  return out;
});

const pack = cudaKernel("Pack", (args: CudaKernelArgs) => {
  const { backend, attrs } = args;
  const all = Object.values(args.inputs);
  assertSupported("Pack", ...all);
  const shape = all[0].shape;
  const dtype = all[0].dtype;
  if (all.some((t) => t.dtype !== dtype)) return runCpuFallback("Pack", args);
  for (const t of all) {
    tf.util.assertShapesMatch(shape, t.shape, "All tensors passed to stack must have matching shapes");
  }
  const axis = (attrs?.axis as number) < 0 ? (attrs?.axis as number) + shape.length + 1 : (attrs?.axis as number);
  const outShape = [...shape];
  outShape.splice(axis, 0, all.length);
  const out = backend.makeOutput(outShape, dtype);
  // Input i is [outer, inner] placed at column block i of [outer, N, inner].
  const outer = size(shape.slice(0, axis));
  const inner = size(shape.slice(axis));
  all.forEach((t, i) => stridedCopy(backend, t, out, [outer, inner], 0, [inner, 1], i * inner, [all.length * inner, 1]));
  return out;
});

const unpack = cudaKernel("Unpack", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const x = inputs.value;
  assertSupported("Unpack", x);
  const rank = x.shape.length;
  const axis = (attrs?.axis as number) < 0 ? (attrs?.axis as number) + rank : (attrs?.axis as number);
  const num = x.shape[axis];
  const outShape = x.shape.filter((_, d) => d !== axis);
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < num; i++) {
    const out = backend.makeOutput(outShape, x.dtype);
    stridedCopy(backend, x, out, [outer, inner], i * inner, [num * inner, 1], 0, [inner, 1]);
    outs.push(out);
  }
  return outs;
});

export const copyKernelConfigs: tf.KernelConfig[] = [
  reshape, identity, expandDims, cast, fill, zerosLike, onesLike, slice, splitV, concat, padV2, tile, pack, unpack,
];
