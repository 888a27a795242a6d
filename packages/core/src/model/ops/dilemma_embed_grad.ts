// DilemmaEmbedGrad (docs/ops.md): dTokens[b, realPos[b,i]] += dy[b,i] (a scatter: realPos rows
// are distinct) and dPosEmbed[inputPos[b,i]] += dy[b,i] over the whole batch (a scatter-add).
import * as tf from "@tensorflow/tfjs-core";
import { checkIndices, cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "./kernel_util.js";

export const DILEMMA_EMBED_GRAD = "DilemmaEmbedGrad";

function dilemmaEmbedGradCpu({ inputs, backend, attrs }: { inputs: { dy: tf.TensorInfo; realPos: tf.TensorInfo; inputPos: tf.TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const { dy, realPos, inputPos } = inputs;
  const L = attrs.numPatches as number;
  const [B, K, D] = dy.shape;
  const g = cpuValues<Float32Array>(backend, dy);
  const rp = cpuValues<Int32Array>(backend, realPos);
  const ip = cpuValues<Int32Array>(backend, inputPos);
  checkIndices(DILEMMA_EMBED_GRAD, "realPos", rp, K, L);
  checkIndices(DILEMMA_EMBED_GRAD, "inputPos", ip, K, L);
  const dTokens = new Float32Array(B * L * D);
  const dPos = new Float32Array(L * D);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < K; i++) {
      const s = (b * K + i) * D;
      const t = (b * L + rp[b * K + i]) * D;
      const p = ip[b * K + i] * D;
      for (let d = 0; d < D; d++) {
        dTokens[t + d] += g[s + d];
        dPos[p + d] += g[s + d];
      }
    }
  }
  return [cpuOutput(backend, [B, L, D], "float32", dTokens), cpuOutput(backend, [L, D], "float32", dPos)];
}

/** Composite of tfjs ops (unsortedSegmentSum) for backends without the kernel. */
export function dilemmaEmbedGradComposite(dy: tf.Tensor3D, realPos: tf.Tensor2D, inputPos: tf.Tensor2D, numPatches: number): [tf.Tensor3D, tf.Tensor2D] {
  const [B, K, D] = dy.shape;
  const L = numPatches;
  checkIndices(DILEMMA_EMBED_GRAD, "realPos", realPos.dataSync(), K, L);
  checkIndices(DILEMMA_EMBED_GRAD, "inputPos", inputPos.dataSync(), K, L);
  return tf.tidy(() => {
    const flatDy = tf.reshape(dy, [B * K, D]);
    const offsets = tf.reshape(tf.mul(tf.range(0, B, 1, "int32"), tf.scalar(L, "int32")), [B, 1]);
    const flatReal = tf.reshape(tf.add(realPos, offsets), [B * K]) as tf.Tensor1D;
    const dTokens = tf.reshape(tf.unsortedSegmentSum(flatDy, flatReal, B * L), [B, L, D]) as tf.Tensor3D;
    const dPos = tf.unsortedSegmentSum(flatDy, tf.reshape(inputPos, [B * K]) as tf.Tensor1D, L) as tf.Tensor2D;
    return [dTokens, dPos] as [tf.Tensor3D, tf.Tensor2D];
  });
}

/** Gradient of DilemmaEmbed: `[dTokens [B, L, D], dPosEmbed [L, D]]` for upstream `dy [B, K, D]`. */
export function dilemmaEmbedGrad(dy: tf.Tensor3D, realPos: tf.Tensor2D, inputPos: tf.Tensor2D, numPatches: number): [tf.Tensor3D, tf.Tensor2D] {
  if (!hasKernel(DILEMMA_EMBED_GRAD)) return dilemmaEmbedGradComposite(dy, realPos, inputPos, numPatches);
  const out = tf.engine().runKernel(DILEMMA_EMBED_GRAD, { dy, realPos, inputPos }, { numPatches }) as unknown as tf.Tensor[];
  return [out[0] as tf.Tensor3D, out[1] as tf.Tensor2D];
}

registerCpuKernel(DILEMMA_EMBED_GRAD, dilemmaEmbedGradCpu as unknown as tf.KernelFunc);
