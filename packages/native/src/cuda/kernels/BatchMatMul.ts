// BatchMatMul and _FusedMatMul (gpu.matMul: cuBLAS on CUDA, fp32 reference on host). Batch
// dims broadcast like tfjs; bias + activation run in the addon's epilogue.
import * as tf from "@tensorflow/tfjs-core";
import { ACT } from "../addon.js";
import { runCpuFallback } from "../fallback.js";
import { binaryOp } from "./binary.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

/** For each output batch index, the flat batch index of each operand under broadcasting. */
function batchIndices(sa: number[], sb: number[], outer: number[]): [Int32Array, Int32Array] {
  const total = size(outer);
  const ia = new Int32Array(total);
  const ib = new Int32Array(total);
  const st = (s: number[]) => {
    const r = new Array<number>(outer.length).fill(0);
    let acc = 1;
    for (let d = s.length - 1; d >= 0; d--) {
      r[d + outer.length - s.length] = s[d] === 1 ? 0 : acc;
      acc *= s[d];
    }
    return r;
  };
  const stA = st(sa);
  const stB = st(sb);
  for (let i = 0; i < total; i++) {
    let rem = i;
    let oa = 0;
    let ob = 0;
    for (let d = outer.length - 1; d >= 0; d--) {
      const idx = rem % outer[d];
      rem = Math.floor(rem / outer[d]);
      oa += idx * stA[d];
      ob += idx * stB[d];
    }
    ia[i] = oa;
    ib[i] = ob;
  }
  return [ia, ib];
}

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
  const ar = a.shape.length;
  const br = b.shape.length;
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kb) {
    throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
      `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
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
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const batchOut = size(outer);
  const out = backend.makeOutput(outShape, "float32");
  if (size(outShape) > 0) {
    if (k === 0) {
      backend.gpu.fill(backend.bufferOf(out), size(outShape), 0, 0);
      if (biasBuf !== 0 || act !== ACT.linear) {
        backend.disposeIntermediateTensorInfo(out);
        return runCpuFallback(kernelName, args);
      }
    } else {
      // "index mod batch" is exact when an operand has batch 1 or the full output batch.
      const simple = (batchA === 1 || batchA === batchOut) && (batchB === 1 || batchB === batchOut);
      const alpha = (attrs?.leakyreluAlpha as number | undefined) ?? 0.2;
      if (simple) {
        backend.gpu.matMul(backend.bufferOf(a), backend.bufferOf(b), backend.bufferOf(out), batchA, batchB, batchOut,
          m, n, k, transposeA, transposeB, biasBuf, biasLen, act, alpha);
      } else {
        const [idxA, idxB] = batchIndices(a.shape.slice(0, -2), b.shape.slice(0, -2), outer);
        backend.gpu.matMul(backend.bufferOf(a), backend.bufferOf(b), backend.bufferOf(out), batchA, batchB, batchOut,
          m, n, k, transposeA, transposeB, biasBuf, biasLen, act, alpha, idxA, idxB);
      }
    }
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
