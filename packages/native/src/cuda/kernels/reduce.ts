// Reductions (gpu.reduce over [outer, r, inner]). A contiguous run of reduced axes needs no copy;
// other axis sets are transposed to the end first (as tfjs cpu does), then reduced with inner = 1.
import * as tf from "@tensorflow/tfjs-core";
import { REDUCE } from "../addon.js";
import { runCpuFallback } from "../fallback.js";
import { assertSupported, castTo, cudaKernel, size, type CudaKernelArgs } from "./util.js";
import { transposeOp } from "./transpose.js";

/**
 * Reduces x over `axes` with addon op `op` into dtype `outDtype` (input read as `inDtype`);
 * returns the tensor with reduced axes removed, or kept as 1 when keepDims.
 */
export function reduceOp(backend: CudaKernelArgs["backend"], x: tf.TensorInfo, axes: number[], op: number,
  inDtype: 0 | 1 | 2, outDtype: tf.DataType, keepDims: boolean): tf.TensorInfo {
  const rank = x.shape.length;
  const sorted = [...axes].sort((p, q) => p - q);
  const [outShapeNoKeep] = tf.backend_util.computeOutAndReduceShapes(x.shape, sorted);
  const outShape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShapeNoKeep, sorted) : outShapeNoKeep;
  const out = backend.makeOutput(outShape, outDtype);
  if (size(outShape) === 0) return out;
  let src = x;
  let outer: number;
  let r: number;
  let inner: number;
  const contiguous = sorted.every((a, i) => i === 0 || a === sorted[i - 1] + 1);
  if (sorted.length === 0) {
    [outer, r, inner] = [size(x.shape), 1, 1];
  } else if (contiguous) {
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    outer = size(x.shape.slice(0, first));
    r = size(x.shape.slice(first, last + 1));
    inner = size(x.shape.slice(last + 1));
  } else {
    const perm = tf.backend_util.getAxesPermutation(sorted, rank)!;
    src = transposeOp(backend, x, perm);
    r = size(sorted.map((a) => x.shape[a]));
    outer = size(x.shape) / r;
    inner = 1;
  }
  backend.gpu.reduce(op, backend.bufferOf(src), backend.bufferOf(out), outer, r, inner, inDtype);
  if (src !== x) backend.disposeIntermediateTensorInfo(src);
  return out;
}

function reduceKernel(name: string, op: number) {
  return cudaKernel(name, (args: CudaKernelArgs) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x;
    assertSupported(name, x);
    const axisAttr = (name === "Max" ? attrs?.reductionIndices : attrs?.axis) as number | number[];
    const keepDims = (attrs?.keepDims as boolean | undefined) ?? false;
    const axes = tf.util.parseAxisParam(axisAttr, x.shape);
    // An empty reduction (0 elements along a reduced axis) has tfjs-defined fill values.
    if (axes.some((a) => x.shape[a] === 0)) return runCpuFallback(name, args);
    switch (name) {
      case "Sum":
      case "Prod":
        // bool sums count; int32 stays int32 (tfjs upcasts to int32).
        return reduceOp(backend, x, axes, op, x.dtype === "float32" ? 0 : 1, x.dtype === "float32" ? "float32" : "int32", keepDims);
      case "Mean": {
        const xf = castTo(backend, x, "float32");
        const out = reduceOp(backend, xf.t, axes, op, 0, "float32", keepDims);
        if (xf.owned) backend.disposeIntermediateTensorInfo(xf.t);
        return out;
      }
      case "Max":
      case "Min":
        if (x.dtype === "bool") return runCpuFallback(name, args);
        return reduceOp(backend, x, axes, op, x.dtype === "float32" ? 0 : 1, x.dtype, keepDims);
      default: {
        // Any / All: bool in and out.
        if (x.dtype !== "bool") return runCpuFallback(name, args);
        return reduceOp(backend, x, axes, op, 2, "bool", keepDims);
      }
    }
  });
}

function argKernel(name: string, op: number) {
  return cudaKernel(name, (args: CudaKernelArgs) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x;
    assertSupported(name, x);
    const axes = tf.util.parseAxisParam(attrs?.axis as number | number[], x.shape);
    if (axes.length !== 1 || x.shape[axes[0]] === 0 || x.dtype === "bool") return runCpuFallback(name, args);
    return reduceOp(backend, x, axes, op, x.dtype === "float32" ? 0 : 1, "int32", false);
  });
}

export const reduceKernelConfigs: tf.KernelConfig[] = [
  reduceKernel("Sum", REDUCE.Sum),
  reduceKernel("Mean", REDUCE.Mean),
  reduceKernel("Max", REDUCE.Max),
  reduceKernel("Min", REDUCE.Min),
  reduceKernel("Prod", REDUCE.Prod),
  reduceKernel("Any", REDUCE.Any),
  reduceKernel("All", REDUCE.All),
  argKernel("ArgMax", REDUCE.ArgMax),
  argKernel("ArgMin", REDUCE.ArgMin),
];
