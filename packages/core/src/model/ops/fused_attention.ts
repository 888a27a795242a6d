// FusedAttention (docs/ops.md): multi-head self-attention of a ViT block as one op,
//   qkv = x Wqkv^T + bqkv -> heads (timm's split [3][H][hd]) -> P = softmax(Q K^T / sqrt(hd))
//   -> ctx = P V -> merge heads -> out = ctx Wproj^T + bproj.
// One kernel call (and one for the gradient) instead of ~15 tfjs kernels per block and pass.
// The kernel also returns qkv, P and ctx; the gradient reuses them instead of recomputing.
import * as tf from "@tensorflow/tfjs-core";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "./kernel_util.js";
import { gemm, linearRows, rowMajor, transposed } from "./cpu_gemm.js";
import { fusedAttentionGrad } from "./fused_attention_grad.js";

export const FUSED_ATTENTION = "FusedAttention";

/** The attention weights in PyTorch layout (timm `Attention`: qkv [3D, D], proj [D, D]). */
export interface AttentionParams {
  qkvW: tf.Tensor2D;
  qkvB: tf.Tensor1D;
  projW: tf.Tensor2D;
  projB: tf.Tensor1D;
}

function checkShapes(x: tf.Tensor, p: AttentionParams, numHeads: number): void {
  const op = FUSED_ATTENTION;
  if (x.rank !== 3 || x.dtype !== "float32") throw new Error(`${op}: x must be float32 [B, N, D], got ${x.dtype} [${x.shape}]`);
  const D = x.shape[2]!;
  if (!Number.isInteger(numHeads) || numHeads < 1 || D % numHeads !== 0) {
    throw new Error(`${op}: numHeads must be a positive integer dividing D = ${D}, got ${numHeads}`);
  }
  const want: [string, tf.Tensor, number[]][] = [["qkvW", p.qkvW, [3 * D, D]], ["qkvB", p.qkvB, [3 * D]], ["projW", p.projW, [D, D]], ["projB", p.projB, [D]]];
  for (const [name, t, shape] of want) {
    if (!tf.util.arraysEqual(t.shape, shape) || t.dtype !== "float32") {
      throw new Error(`${op}: ${name} must be float32 [${shape}] for x [${x.shape}], got ${t.dtype} [${t.shape}]`);
    }
  }
}

/** Row softmax of s [rows, n] in place, in double; rows of -Inf/NaN propagate NaN like tfjs. */
function softmaxRows(s: Float32Array, off: number, rows: number, n: number, scale: number): void {
  const e = new Float64Array(n);
  for (let i = 0; i < rows; i++) {
    const o = off + i * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, s[o + j] * scale);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += e[j] = Math.exp(s[o + j] * scale - m);
    for (let j = 0; j < n; j++) s[o + j] = e[j] / sum;
  }
}

/** CPU kernel: outputs [out [B, N, D], qkv [B, N, 3D], probs [B, H, N, N], ctx [B, N, D]] ([out] with attr inference). */
function fusedAttentionCpu({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const H = attrs.numHeads as number;
  const [B, N, D] = inputs.x.shape;
  const hd = D / H, R = B * N, D3 = 3 * D;
  const v = (t: tf.TensorInfo) => cpuValues<Float32Array>(backend, t);
  const qkv = linearRows(v(inputs.x), v(inputs.qkvW), v(inputs.qkvB), R, D, D3);
  const probs = new Float32Array(B * H * N * N);
  const ctx = new Float32Array(R * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const q = b * N * D3 + h * hd;
      const p = (b * H + h) * N * N;
      // S = Q K^T, then softmax(S / sqrt(hd)) in place.
      gemm(N, N, hd, rowMajor(qkv, q, D3), transposed(rowMajor(qkv, q + D, D3)), rowMajor(probs, p, N));
      softmaxRows(probs, p, N, N, hd ** -0.5);
      gemm(N, hd, N, rowMajor(probs, p, N), rowMajor(qkv, q + 2 * D, D3), rowMajor(ctx, b * N * D + h * hd, D));
    }
  }
  const out = linearRows(ctx, v(inputs.projW), v(inputs.projB), R, D, D);
  if (attrs?.inference === true) return [cpuOutput(backend, [B, N, D], "float32", out)];
  return [
    cpuOutput(backend, [B, N, D], "float32", out),
    cpuOutput(backend, [B, N, D3], "float32", qkv),
    cpuOutput(backend, [B, H, N, N], "float32", probs),
    cpuOutput(backend, [B, N, D], "float32", ctx),
  ];
}

/** The same attention from tfjs ops, for backends without the kernel (autodiff by tfjs). */
export function fusedAttentionComposite(x: tf.Tensor3D, p: AttentionParams, numHeads: number): tf.Tensor3D {
  checkShapes(x, p, numHeads);
  const [B, N, D] = x.shape;
  const H = numHeads, hd = D / H;
  return tf.tidy(() => {
    const qkv = tf.fused.matMul({ a: tf.reshape(x, [B * N, D]), b: p.qkvW, transposeB: true, bias: p.qkvB });
    // [B*N, 3D] -> [B, N, 3, H, hd] -> [3, B, H, N, hd] (timm's split: 3 outermost, then heads).
    const qkvT = tf.reshape(tf.transpose(tf.reshape(qkv, [B, N, 3, H, hd]), [2, 0, 3, 1, 4]), [3, B * H, N, hd]);
    const [q, k, v] = tf.unstack(qkvT) as tf.Tensor3D[];
    const scores = tf.mul(tf.matMul(q, k, false, true), hd ** -0.5);
    const ctx = tf.matMul(tf.softmax(scores), v); // [B*H, N, hd]
    const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [B, H, N, hd]), [0, 2, 1, 3]), [B * N, D]);
    return tf.reshape(tf.fused.matMul({ a: merged, b: p.projW, transposeB: true, bias: p.projB }), [B, N, D]);
  });
}

/**
 * Multi-head self-attention (timm `Attention`, no dropout) of x `[B, N, D]` float32 with
 * `numHeads` heads: `[B, N, D]`. Runs the backend's FusedAttention kernel when registered (its
 * gradient: FusedAttentionGrad, fed the activations the forward kernel saved), else a
 * composite of tfjs ops.
 */
export function fusedAttention(x: tf.Tensor3D, p: AttentionParams, numHeads: number): tf.Tensor3D {
  checkShapes(x, p, numHeads);
  if (!hasKernel(FUSED_ATTENTION)) return fusedAttentionComposite(x, p, numHeads);
  if (!tf.engine().isTapeOn()) {
    // No gradient will be taken (e.g. the momentum encoder): the kernel keeps no activations.
    const [out] = tf.engine().runKernel(FUSED_ATTENTION, { x, ...p }, { numHeads, inference: true }) as unknown as tf.Tensor[];
    return out as tf.Tensor3D;
  }
  // customGrad rather than registerGradient: the kernel's extra outputs (qkv, probs, ctx) stay
  // out of the tape, so backprop allocates no zero gradients for them.
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, qkvW, qkvB, projW, projB] = args as tf.Tensor[];
    const save = args[5] as tf.GradSaveFunc;
    const [out, qkv, probs, ctx] = tf.engine().runKernel(FUSED_ATTENTION, { x: xx, qkvW, qkvB, projW, projB }, { numHeads }) as unknown as tf.Tensor[];
    save([xx, qkvW, projW, qkv, probs, ctx]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sQkvW, sProjW, sQkv, sProbs, sCtx] = saved;
        return fusedAttentionGrad(dy as tf.Tensor3D, sx as tf.Tensor3D, sQkvW as tf.Tensor2D, sProjW as tf.Tensor2D,
          sQkv as tf.Tensor3D, sProbs as tf.Tensor4D, sCtx as tf.Tensor3D, numHeads);
      },
    };
  });
  return f(x, p.qkvW, p.qkvB, p.projW, p.projB) as tf.Tensor3D;
}

registerCpuKernel(FUSED_ATTENTION, fusedAttentionCpu as unknown as tf.KernelFunc);
