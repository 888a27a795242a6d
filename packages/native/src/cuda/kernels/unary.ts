// Elementwise unary ops (gpu.unary). The addon computes in float32: int32 inputs are cast in and,
// where tfjs keeps the input dtype, the result cast back (truncation, as tfjs cpu stores it).
import type * as tf from "@tensorflow/tfjs-core";
import { UNARY } from "../addon.js";
import { assertSupported, castTo, cudaKernel, size, type CudaKernelArgs } from "./util.js";

/** tfjs kernel name -> addon op; every UNARY name but LogicalNot is the tfjs name. */
export const UNARY_KERNELS: Record<string, number> = Object.fromEntries(
  Object.entries(UNARY).filter(([name]) => name !== "LogicalNot"),
);

/** Kernels whose tfjs cpu output is float32 whatever the input. */
const FLOAT_OUTPUT = new Set(["Exp"]);

export function unaryOp(backend: CudaKernelArgs["backend"], op: number, x: tf.TensorInfo, alpha = 0): tf.TensorInfo {
  const out = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) backend.gpu.unary(op, backend.bufferOf(x), backend.bufferOf(out), n, alpha);
  return out;
}

function unaryKernel(name: string, op: number) {
  return cudaKernel(name, ({ inputs, backend, attrs }: CudaKernelArgs) => {
    const x = inputs.x;
    assertSupported(name, x);
    // Step and LeakyRelu carry alpha; Elu is tfjs's alpha = 1 form.
    const alpha = (attrs?.alpha as number | undefined) ?? 0;
    if (x.dtype === "float32") return unaryOp(backend, op, x, alpha);
    const xf = castTo(backend, x, "float32");
    const yf = unaryOp(backend, op, xf.t, alpha);
    if (xf.owned) backend.disposeIntermediateTensorInfo(xf.t);
    if (FLOAT_OUTPUT.has(name) || x.dtype === "bool") return yf;
    const y = castTo(backend, yf, "int32");
    backend.disposeIntermediateTensorInfo(yf);
    return y.t;
  });
}

const logicalNot = cudaKernel("LogicalNot", ({ inputs, backend }: CudaKernelArgs) => {
  const x = inputs.x;
  assertSupported("LogicalNot", x);
  const out = backend.makeOutput(x.shape, "bool");
  const n = size(x.shape);
  if (n > 0) {
    // Float inputs are not stored as 0/1: compare through a bool cast first.
    const xb = x.dtype === "float32" ? backend.makeOutput(x.shape, "bool") : x;
    if (xb !== x) backend.gpu.cast(backend.bufferOf(x), backend.bufferOf(xb), n, 0, 2);
    backend.gpu.unary(UNARY.LogicalNot, backend.bufferOf(xb), backend.bufferOf(out), n, 0);
    if (xb !== x) backend.disposeIntermediateTensorInfo(xb);
  }
  return out;
});

export const unaryKernelConfigs: tf.KernelConfig[] = [
  ...Object.entries(UNARY_KERNELS).map(([name, op]) => unaryKernel(name, op)),
  logicalNot,
];
