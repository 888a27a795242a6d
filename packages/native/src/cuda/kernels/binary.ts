// Elementwise binary ops with broadcasting (gpu.binary), Select and AddN.
import * as tf from "@tensorflow/tfjs-core";
import { BINARY } from "../addon.js";
import { runCpuFallback } from "../fallback.js";
import { assertSupported, broadcastStrides, castTo, collapseAxes, cudaKernel, size, type CudaKernelArgs } from "./util.js";

/** tfjs kernel name -> addon op. */
export const ARITHMETIC_KERNELS: Record<string, number> = {
  Add: BINARY.Add, Sub: BINARY.Sub, Multiply: BINARY.Mul, RealDiv: BINARY.Div, Maximum: BINARY.Max,
  Minimum: BINARY.Min, SquaredDifference: BINARY.SquaredDifference, Pow: BINARY.Pow, FloorDiv: BINARY.FloorDiv,
  Mod: BINARY.Mod,
};
export const COMPARISON_KERNELS: Record<string, number> = {
  Equal: BINARY.Equal, NotEqual: BINARY.NotEqual, Greater: BINARY.Greater, GreaterEqual: BINARY.GreaterEqual,
  Less: BINARY.Less, LessEqual: BINARY.LessEqual,
};
export const LOGICAL_KERNELS: Record<string, number> = { LogicalAnd: BINARY.LogicalAnd, LogicalOr: BINARY.LogicalOr };

/** out = op(a, b) over the broadcast shape; a and b already of one stored dtype. */
export function binaryOp(backend: CudaKernelArgs["backend"], op: number, a: tf.TensorInfo, b: tf.TensorInfo,
  outDtype: tf.DataType, inDtype: 0 | 1 | 2): tf.TensorInfo {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const out = backend.makeOutput(outShape, outDtype);
  if (size(outShape) === 0) return out;
  const c = collapseAxes(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
  if (c.shape.length > 8) throw new Error(`cuda backend: binary op of rank ${c.shape.length} (at most 8)`);
  backend.gpu.binary(op, backend.bufferOf(a), backend.bufferOf(b), backend.bufferOf(out), c.shape, c.strides[0], c.strides[1], inDtype);
  return out;
}

/** Brings a and b to one numeric dtype (tfjs ops normally already did). */
function matchNumeric(backend: CudaKernelArgs["backend"], a: tf.TensorInfo, b: tf.TensorInfo) {
  const dtype = a.dtype === "float32" || b.dtype === "float32" ? "float32" : "int32";
  // bool is stored as int32 0/1, so it reads as int32 without a copy.
  const ca = a.dtype === "bool" && dtype === "int32" ? { t: a, owned: false } : castTo(backend, a, dtype);
  const cb = b.dtype === "bool" && dtype === "int32" ? { t: b, owned: false } : castTo(backend, b, dtype);
  const done = () => {
    if (ca.owned) backend.disposeIntermediateTensorInfo(ca.t);
    if (cb.owned) backend.disposeIntermediateTensorInfo(cb.t);
  };
  return { a: ca.t, b: cb.t, dtype, done } as const;
}

function arithmeticKernel(name: string, op: number) {
  return cudaKernel(name, (args: CudaKernelArgs) => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    assertSupported(name, a, b);
    // tfjs gives these the input dtype; bool arithmetic or int32 RealDiv keep cpu semantics.
    if (a.dtype !== b.dtype || a.dtype === "bool" || (name === "RealDiv" && a.dtype !== "float32")) {
      return runCpuFallback(name, args);
    }
    return binaryOp(backend, op, a, b, a.dtype, a.dtype === "float32" ? 0 : 1);
  });
}

function comparisonKernel(name: string, op: number) {
  return cudaKernel(name, ({ inputs, backend }: CudaKernelArgs) => {
    assertSupported(name, inputs.a, inputs.b);
    const m = matchNumeric(backend, inputs.a, inputs.b);
    const out = binaryOp(backend, op, m.a, m.b, "bool", m.dtype === "float32" ? 0 : 1);
    m.done();
    return out;
  });
}

function logicalKernel(name: string, op: number) {
  return cudaKernel(name, (args: CudaKernelArgs) => {
    const { a, b } = args.inputs;
    if (a.dtype !== "bool" || b.dtype !== "bool") return runCpuFallback(name, args);
    return binaryOp(args.backend, op, a, b, "bool", 2);
  });
}

const select = cudaKernel("Select", ({ inputs, backend }: CudaKernelArgs) => {
  const { condition, t, e } = inputs;
  assertSupported("Select", condition, t, e);
  const outShape = tf.backend_util.assertAndGetBroadcastShape(
    tf.backend_util.assertAndGetBroadcastShape(t.shape, e.shape), condition.shape);
  const out = backend.makeOutput(outShape, t.dtype);
  if (size(outShape) === 0) return out;
  // The addon tests cond != 0 on 4-byte words: a float condition must become 0/1 first.
  const cond = condition.dtype === "float32" ? castTo(backend, condition, "int32") : { t: condition, owned: false };
  const c = collapseAxes(outShape, [condition.shape, t.shape, e.shape].map((s) => broadcastStrides(s, outShape)));
  backend.gpu.select(backend.bufferOf(cond.t), backend.bufferOf(t), backend.bufferOf(e), backend.bufferOf(out),
    c.shape, c.strides[0], c.strides[1], c.strides[2]);
  if (cond.owned) backend.disposeIntermediateTensorInfo(cond.t);
  return out;
});

const addN = cudaKernel("AddN", (args: CudaKernelArgs) => {
  const ts = Object.values(args.inputs);
  const { backend } = args;
  if (ts.length === 0 || ts.some((t) => t.dtype !== "float32" || !tf.util.arraysEqual(t.shape, ts[0].shape))) {
    return runCpuFallback("AddN", args);
  }
  const out = backend.makeOutput(ts[0].shape, "float32");
  const n = size(ts[0].shape);
  if (n > 0) backend.gpu.addN(backend.bufferOf(out), ts.map((t) => backend.bufferOf(t)), n);
  return out;
});

export const binaryKernelConfigs: tf.KernelConfig[] = [
  ...Object.entries(ARITHMETIC_KERNELS).map(([n, op]) => arithmeticKernel(n, op)),
  ...Object.entries(COMPARISON_KERNELS).map(([n, op]) => comparisonKernel(n, op)),
  ...Object.entries(LOGICAL_KERNELS).map(([n, op]) => logicalKernel(n, op)),
  select,
  addN,
];
