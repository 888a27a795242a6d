// FusedAttentionGrad (docs/ops.md): the gradient of FusedAttention from the activations its
// forward kernel saved (qkv, probs P, merged ctx). Per (batch, head), with dCtx = dy Wproj:
//   dP = dCtx V^T, dV = P^T dCtx, dS = P * (dP - rowsum(dP * P)) / sqrt(hd), dQ = dS K, dK = dS^T Q;
// then dWqkv = dqkv^T x, dbqkv = colsum(dqkv), dx = dqkv Wqkv, dWproj = dy^T ctx, dbproj = colsum(dy).
import * as tf from "@tensorflow/tfjs-core";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "./kernel_util.js";
import { columnSums, gemm, rowMajor, transposed } from "./cpu_gemm.js";

export const FUSED_ATTENTION_GRAD = "FusedAttentionGrad";

/** CPU kernel: outputs [dx, dQkvW, dQkvB, dProjW, dProjB]. */
function fusedAttentionGradCpu({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const H = attrs.numHeads as number;
  const [B, N, D] = inputs.x.shape;
  const hd = D / H, R = B * N, D3 = 3 * D, scale = hd ** -0.5;
  const v = (t: tf.TensorInfo) => cpuValues<Float32Array>(backend, t);
  const dy = v(inputs.dy), x = v(inputs.x), qkvW = v(inputs.qkvW), projW = v(inputs.projW);
  const qkv = v(inputs.qkv), probs = v(inputs.probs), ctx = v(inputs.ctx);

  const dProjW = new Float32Array(D * D);
  gemm(D, D, R, transposed(rowMajor(dy, 0, D)), rowMajor(ctx, 0, D), rowMajor(dProjW, 0, D));
  const dCtx = new Float32Array(R * D);
  gemm(R, D, D, rowMajor(dy, 0, D), rowMajor(projW, 0, D), rowMajor(dCtx, 0, D));
  const dqkv = new Float32Array(R * D3);
  const dS = new Float32Array(N * N);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const q = b * N * D3 + h * hd, c = b * N * D + h * hd, p = (b * H + h) * N * N;
      gemm(N, N, hd, rowMajor(dCtx, c, D), transposed(rowMajor(qkv, q + 2 * D, D3)), rowMajor(dS, 0, N)); // dP
      gemm(N, hd, N, transposed(rowMajor(probs, p, N)), rowMajor(dCtx, c, D), rowMajor(dqkv, q + 2 * D, D3)); // dV
      for (let i = 0; i < N; i++) {
        let dot = 0;
        for (let j = 0; j < N; j++) dot += dS[i * N + j] * probs[p + i * N + j];
        for (let j = 0; j < N; j++) dS[i * N + j] = probs[p + i * N + j] * (dS[i * N + j] - dot) * scale;
      }
      gemm(N, hd, N, rowMajor(dS, 0, N), rowMajor(qkv, q + D, D3), rowMajor(dqkv, q, D3)); // dQ
      gemm(N, hd, N, transposed(rowMajor(dS, 0, N)), rowMajor(qkv, q, D3), rowMajor(dqkv, q + D, D3)); // dK
    }
  }
  const dQkvW = new Float32Array(D3 * D);
  gemm(D3, D, R, transposed(rowMajor(dqkv, 0, D3)), rowMajor(x, 0, D), rowMajor(dQkvW, 0, D));
  const dx = new Float32Array(R * D);
  gemm(R, D, D3, rowMajor(dqkv, 0, D3), rowMajor(qkvW, 0, D), rowMajor(dx, 0, D));
  return [
    cpuOutput(backend, [B, N, D], "float32", dx),
    cpuOutput(backend, [D3, D], "float32", dQkvW),
    cpuOutput(backend, [D3], "float32", columnSums(dqkv, R, D3)),
    cpuOutput(backend, [D, D], "float32", dProjW),
    cpuOutput(backend, [D], "float32", columnSums(dy, R, D)),
  ];
}

type AttentionGrads = [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];

/** The same gradient from tfjs ops (for backends with FusedAttention but no grad kernel). */
export function fusedAttentionGradComposite(dy: tf.Tensor3D, x: tf.Tensor3D, qkvW: tf.Tensor2D, projW: tf.Tensor2D,
  qkv: tf.Tensor3D, probs: tf.Tensor4D, ctx: tf.Tensor3D, numHeads: number): AttentionGrads {
  const [B, N, D] = x.shape;
  const H = numHeads, hd = D / H, R = B * N;
  return tf.tidy(() => {
    const dy2 = tf.reshape(dy, [R, D]);
    const dProjW = tf.matMul(dy2, tf.reshape(ctx, [R, D]), true, false) as tf.Tensor2D;
    const dProjB = tf.sum(dy2, 0) as tf.Tensor1D;
    // Heads as [B*H, N, hd].
    const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, N, H, hd]), [0, 2, 1, 3]), [B * H, N, hd]);
    const dCtx = heads(tf.matMul(dy2, projW));
    const [q, k, v] = tf.split(tf.reshape(qkv, [B, N, 3 * D]), 3, 2).map(heads);
    const P = tf.reshape(probs, [B * H, N, N]);
    const dP = tf.matMul(dCtx, v, false, true);
    const dV = tf.matMul(P, dCtx, true, false);
    const dS = tf.mul(tf.mul(P, tf.sub(dP, tf.sum(tf.mul(dP, P), -1, true))), hd ** -0.5);
    const dQ = tf.matMul(dS, k);
    const dK = tf.matMul(dS, q, true, false);
    const merge = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, H, N, hd]), [0, 2, 1, 3]), [R, D]);
    const dqkv = tf.concat([merge(dQ), merge(dK), merge(dV)], 1);
    const dQkvW = tf.matMul(dqkv, tf.reshape(x, [R, D]), true, false) as tf.Tensor2D;
    const dQkvB = tf.sum(dqkv, 0) as tf.Tensor1D;
    const dx = tf.reshape(tf.matMul(dqkv, qkvW), [B, N, D]) as tf.Tensor3D;
    return [dx, dQkvW, dQkvB, dProjW, dProjB] as AttentionGrads;
  });
}

/** Gradient of FusedAttention: `[dx, dQkvW, dQkvB, dProjW, dProjB]` from its saved activations. */
export function fusedAttentionGrad(dy: tf.Tensor3D, x: tf.Tensor3D, qkvW: tf.Tensor2D, projW: tf.Tensor2D,
  qkv: tf.Tensor3D, probs: tf.Tensor4D, ctx: tf.Tensor3D, numHeads: number): AttentionGrads {
  if (!hasKernel(FUSED_ATTENTION_GRAD)) return fusedAttentionGradComposite(dy, x, qkvW, projW, qkv, probs, ctx, numHeads);
  return tf.engine().runKernel(FUSED_ATTENTION_GRAD, { dy, x, qkvW, projW, qkv, probs, ctx }, { numHeads }) as unknown as AttentionGrads;
}

registerCpuKernel(FUSED_ATTENTION_GRAD, fusedAttentionGradCpu as unknown as tf.KernelFunc);
