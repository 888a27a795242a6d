// DilemmaEmbed (docs/ops.md): out[b, i] = tokens[b, realPos[b, i]] + posEmbed[inputPos[b, i]].
// Fuses the gather of kept tokens with the (possibly wrong) positional embeddings of DILEMMA.
import * as tf from "@tensorflow/tfjs-core";
import { checkIndices, cpuOutput, cpuValues, hasKernel, registerCpuKernel, registerGradientOnce } from "./kernel_util.js";
import { dilemmaEmbedGrad } from "./dilemma_embed_grad.js";

export const DILEMMA_EMBED = "DilemmaEmbed";

function checkShapes(tokens: tf.Tensor, posEmbed: tf.Tensor, realPos: tf.Tensor, inputPos: tf.Tensor): void {
  const op = DILEMMA_EMBED;
  if (tokens.rank !== 3) throw new Error(`${op}: tokens must be [B, L, D], got shape [${tokens.shape}]`);
  const [B, L, D] = tokens.shape;
  if (posEmbed.rank !== 2 || posEmbed.shape[0] !== L || posEmbed.shape[1] !== D) {
    throw new Error(`${op}: posEmbed must be [L, D] = [${L}, ${D}], got [${posEmbed.shape}]`);
  }
  for (const [name, t] of [["realPos", realPos], ["inputPos", inputPos]] as const) {
    if (t.rank !== 2 || t.shape[0] !== B) throw new Error(`${op}: ${name} must be [B, K] with B = ${B}, got [${t.shape}]`);
    if (t.dtype !== "int32") throw new Error(`${op}: ${name} must be int32, got ${t.dtype}`);
  }
  if (realPos.shape[1] !== inputPos.shape[1]) {
    throw new Error(`${op}: realPos [${realPos.shape}] and inputPos [${inputPos.shape}] must have the same shape`);
  }
}

/** CPU kernel: plain loops over the typed arrays. */
function dilemmaEmbedCpu({ inputs, backend }: { inputs: { tokens: tf.TensorInfo; posEmbed: tf.TensorInfo; realPos: tf.TensorInfo; inputPos: tf.TensorInfo }; backend: unknown }): tf.TensorInfo {
  const { tokens, posEmbed, realPos, inputPos } = inputs;
  const [B, L, D] = tokens.shape;
  const K = realPos.shape[1];
  const tok = cpuValues<Float32Array>(backend, tokens);
  const pos = cpuValues<Float32Array>(backend, posEmbed);
  const rp = cpuValues<Int32Array>(backend, realPos);
  const ip = cpuValues<Int32Array>(backend, inputPos);
  checkIndices(DILEMMA_EMBED, "realPos", rp, K, L);
  checkIndices(DILEMMA_EMBED, "inputPos", ip, K, L);
  const out = new Float32Array(B * K * D);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < K; i++) {
      const o = (b * K + i) * D;
      const t = (b * L + rp[b * K + i]) * D;
      const p = ip[b * K + i] * D;
      for (let d = 0; d < D; d++) out[o + d] = tok[t + d] + pos[p + d];
    }
  }
  return cpuOutput(backend, [B, K, D], "float32", out);
}

/** The same op from tfjs ops, for backends without a DilemmaEmbed kernel (autodiff by tfjs). */
export function dilemmaEmbedComposite(tokens: tf.Tensor3D, posEmbed: tf.Tensor2D, realPos: tf.Tensor2D, inputPos: tf.Tensor2D): tf.Tensor3D {
  checkShapes(tokens, posEmbed, realPos, inputPos);
  const [B, L, D] = tokens.shape;
  const K = realPos.shape[1];
  // Indices are small (B*K): a synchronous read gives the same clear error as the kernel.
  checkIndices(DILEMMA_EMBED, "realPos", realPos.dataSync(), K, L);
  checkIndices(DILEMMA_EMBED, "inputPos", inputPos.dataSync(), K, L);
  return tf.tidy(() => {
    // Row b's tokens start at b*L in the flattened [B*L, D] table.
    const offsets = tf.mul(tf.range(0, B, 1, "int32"), tf.scalar(L, "int32"));
    const flatIdx = tf.add(realPos, tf.reshape(offsets, [B, 1]));
    const kept = tf.gather(tf.reshape(tokens, [B * L, D]), tf.reshape(flatIdx, [B * K]));
    const pos = tf.gather(posEmbed, tf.reshape(inputPos, [B * K]));
    return tf.reshape(tf.add(kept, pos), [B, K, D]);
  });
}

/**
 * DILEMMA embedding `[B, K, D]`: kept patch tokens (`realPos`) plus the positional embedding of
 * `inputPos`. tokens `[B, L, D]` float32, posEmbed `[L, D]`, realPos / inputPos `[B, K]` int32.
 * Uses the backend's DilemmaEmbed kernel when registered, else a composite of tfjs ops.
 */
export function dilemmaEmbed(tokens: tf.Tensor3D, posEmbed: tf.Tensor2D, realPos: tf.Tensor2D, inputPos: tf.Tensor2D): tf.Tensor3D {
  if (!hasKernel(DILEMMA_EMBED)) return dilemmaEmbedComposite(tokens, posEmbed, realPos, inputPos);
  checkShapes(tokens, posEmbed, realPos, inputPos);
  return tf.engine().runKernel(DILEMMA_EMBED, { tokens, posEmbed, realPos, inputPos }) as tf.Tensor3D;
}

registerCpuKernel(DILEMMA_EMBED, dilemmaEmbedCpu as unknown as tf.KernelFunc);

registerGradientOnce({
  kernelName: DILEMMA_EMBED,
  inputsToSave: ["tokens", "realPos", "inputPos"],
  gradFunc: (dy, saved) => {
    const [tokens, realPos, inputPos] = saved;
    const [dTokens, dPosEmbed] = dilemmaEmbedGrad(dy as tf.Tensor3D, realPos as tf.Tensor2D, inputPos as tf.Tensor2D, tokens.shape[1]!);
    return {
      tokens: () => dTokens,
      posEmbed: () => dPosEmbed,
      // Indices are not differentiable.
      realPos: () => tf.zeros(realPos.shape, "float32"),
      inputPos: () => tf.zeros(inputPos.shape, "float32"),
    };
  },
});
