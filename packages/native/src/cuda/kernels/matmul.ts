// BatchMatMul and _FusedMatMul (gpu.matMul: cuBLAS on CUDA, fp32 reference on host). Batch
// dims broadcast like tfjs; bias + activation run in the addon's epilogue.
import * as tf from "@tensorflow/tfjs-core";
import { ACT } from "../addon.js";
import { runCpuFallback } from "../fallback.js";
import { planMatMul } from "../../kernels/matmul_plan.js";
import { binaryOp } from "./binary.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

function matMul(args: CudaKernelArgs, kernelName: string): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  if (a === undefined || b === undefined) throw new Error(`cuda backend: ${kernelName} needs inputs a and b`);
  const transposeA = (attrs?.transposeA as boolean | undefined) ?? false;
  const transposeB = (attrs?.transposeB as boolean | undefined) ?? false;
  const activation = (attrs?.activation as string | undefined) ?? "linear";
  const act = (ACT as Record<string, number>)[activation];
  if (act === undefined || preluActivationWeights != null || a.dtype !== "float32" || b.dtype !== "float32" ||
    (bias != null && bias.dtype !== "float32")) {
    return runCpuFallback(kernelName, args);
  }
  const { m, n, k, outer, batchA, batchB, batchOut, idxA, idxB } = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const outShape = [...outer, m, n];
  // The epilogue takes a bias of 1 or n values broadcast over rows; any other bias shape is
  // added with a broadcasting Add after a linear product (then the activation applies).
  let biasBuf = 0;
  let biasLen = 0;
  let lateBias: tf.TensorInfo | null = null;
  if (bias != null) {
    const bl = size(bias.shape);
    const rowVector = bl === 1 || (bl === n && bias.shape[bias.shape.length - 1] === n);
    if (rowVector && bias.shape.length <= outShape.length) {
      biasBuf = backend.bufferOf(bias);
      biasLen = bl;
    } else {
      lateBias = bias;
    }
  }
  if (lateBias !== null && act !== ACT.linear) return runCpuFallback(kernelName, args);
  const out = backend.makeOutput(outShape, "float32");
  if (size(outShape) > 0) {
    // (k = 0: the addon writes the empty sum, zeros, then bias and activation)
    const alpha = (attrs?.leakyreluAlpha as number | undefined) ?? 0.2;
    backend.gpu.matMul(backend.bufferOf(a), backend.bufferOf(b), backend.bufferOf(out), batchA, batchB, batchOut,
      m, n, k, transposeA, transposeB, biasBuf, biasLen, act, alpha, idxA, idxB);
  }
  if (lateBias === null) return out;
  const withBias = binaryOp(backend, 0, out, lateBias, "float32", 0);
  backend.disposeIntermediateTensorInfo(out);
  return withBias;
}

export const matMulKernelConfigs: tf.KernelConfig[] = [
  cudaKernel("BatchMatMul", (args) => matMul(args, "BatchMatMul")),
  cudaKernel("_FusedMatMul", (args) => matMul(args, "_FusedMatMul")),
];
