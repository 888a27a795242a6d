// BatchMatMul and _FusedMatMul on BLAS (csrc/engine/matmul.cc). Batch dims broadcast like the
// tfjs cpu kernel (operand batch index = output batch index mod operand batch).
import * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, size, type KernelArgs } from "./util.js";
import type { Addon } from "../addon.js";

const ACT: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 4, leakyrelu: 5 };

export function matMulImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  if (a === undefined || b === undefined) return null;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const activation = ((attrs?.activation as string | undefined) ?? "linear");
  const act = ACT[activation];
  if (act === undefined || preluActivationWeights != null) return null;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (av === null || bv === null) return null;
  let biasV: Float32Array | null = null;
  let biasLen = 0;
  if (bias != null) {
    biasV = f32(backend, bias);
    if (biasV === null) return null;
    biasLen = size(bias.shape);
    if (biasLen !== 1 && !(bias.shape.length === 1 || size(bias.shape.slice(0, -1)) === 1)) return null;
  }
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) return null;
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kb) {
    throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
      `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  if (biasLen > 1 && biasLen !== n) return null;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const batchOut = size(outer);
  const out = allocOutput(batchOut * m * n);
  const alpha = (attrs?.leakyreluAlpha as number | undefined) ?? 0.2;
  // "index mod batch" is exact when an operand has batch 1 or the full output batch; otherwise
  // (e.g. [2,1,..] x [1,3,..]) pass each output batch's operand indices explicitly.
  const simple = (batchA === 1 || batchA === batchOut) && (batchB === 1 || batchB === batchOut);
  const [idxA, idxB] = simple ? [undefined, undefined] : batchIndices(a.shape.slice(0, -2), b.shape.slice(0, -2), outer);
  addon.matMul(av, bv, out, batchA, batchB, batchOut, m, n, k, transposeA, transposeB, biasV, biasLen, act, alpha, idxA, idxB);
  return output(backend, [...outer, m, n], out);
}

/** For each output batch index, the flat batch index of each operand under broadcasting. */
function batchIndices(sa: number[], sb: number[], outer: number[]): [Int32Array, Int32Array] {
  const total = size(outer);
  const ia = new Int32Array(total);
  const ib = new Int32Array(total);
  const strides = (s: number[]) => {
    const st = new Array<number>(outer.length).fill(0);
    let acc = 1;
    for (let d = s.length - 1; d >= 0; d--) {
      st[d + outer.length - s.length] = s[d] === 1 ? 0 : acc;
      acc *= s[d];
    }
    return st;
  };
  const stA = strides(sa);
  const stB = strides(sb);
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
