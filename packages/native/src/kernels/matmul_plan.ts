// Shape plan of BatchMatMul / _FusedMatMul shared by the native and cuda kernels: m, n, k, the
// broadcast batch, and explicit per-batch operand indices when "index mod batch" is not exact.
import * as tf from "@tensorflow/tfjs-core";

export interface MatMulPlan {
  m: number;
  n: number;
  k: number;
  /** Broadcast batch dims of the output. */
  outer: number[];
  batchA: number;
  batchB: number;
  batchOut: number;
  /** Operand batch index per output batch; undefined when it is `b % batchA` / `b % batchB`. */
  idxA?: Int32Array;
  idxB?: Int32Array;
}

function size(shape: number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** Plans op(a) · op(b) for operands of rank >= 2; throws tfjs' message when the inner dims differ. */
export function planMatMul(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulPlan {
  const ar = aShape.length;
  const br = bShape.length;
  const k = transposeA ? aShape[ar - 2] : aShape[ar - 1];
  const kb = transposeB ? bShape[br - 1] : bShape[br - 2];
  const m = transposeA ? aShape[ar - 1] : aShape[ar - 2];
  const n = transposeB ? bShape[br - 2] : bShape[br - 1];
  if (k !== kb) {
    throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${aShape} and ` +
      `${bShape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
  const batchA = size(aShape.slice(0, -2));
  const batchB = size(bShape.slice(0, -2));
  const batchOut = size(outer);
  // "index mod batch" is exact when an operand has batch 1 or the full output batch; otherwise
  // (e.g. [2,1,..] x [1,3,..]) each output batch's operand indices are passed explicitly.
  const simple = (batchA === 1 || batchA === batchOut) && (batchB === 1 || batchB === batchOut);
  if (simple) return { m, n, k, outer, batchA, batchB, batchOut };
  const [idxA, idxB] = batchIndices(aShape.slice(0, -2), bShape.slice(0, -2), outer);
  return { m, n, k, outer, batchA, batchB, batchOut, idxA, idxB };
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
