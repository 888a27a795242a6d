// BatchNorm1dGrad (docs/ops.md): the gradient of BatchNorm1d's y in training mode, the batch
// statistics recomputed from x. Per column, with xhat = (x - mean) * rstd and g = dy * weight:
//   dx = rstd * (g - mean_B(g) - xhat * mean_B(g * xhat)),  dWeight = sum_B dy * xhat,  dBias = sum_B dy.
import * as tf from "@tensorflow/tfjs-core";
import { columnStats, cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "../../model/ops/kernel_util.js";

export const BATCH_NORM_1D_GRAD = "BatchNorm1dGrad";

/** CPU kernel: outputs [dx [B, C], dWeight [C], dBias [C]], or [dx] without weight. */
function batchNorm1dGradCpu({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo | undefined>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const eps = attrs.eps as number;
  const [B, C] = inputs.x!.shape;
  const dy = cpuValues<Float32Array>(backend, inputs.dy!);
  const x = cpuValues<Float32Array>(backend, inputs.x!);
  const w = inputs.weight ? cpuValues<Float32Array>(backend, inputs.weight) : null;
  const { mean, rstd } = columnStats(x, B, C, eps);
  // column sums in double: mean_B(g), mean_B(g * xhat), and the parameter gradients
  const sG = new Float64Array(C), sGX = new Float64Array(C), dW = new Float64Array(C), dB = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const i = b * C + c;
      const xh = (x[i] - mean[c]) * rstd[c];
      sG[c] += dy[i] * (w ? w[c] : 1);
      sGX[c] += dy[i] * (w ? w[c] : 1) * xh;
      dW[c] += dy[i] * xh;
      dB[c] += dy[i];
    }
  }
  const dx = new Float32Array(B * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const i = b * C + c;
      const xh = (x[i] - mean[c]) * rstd[c];
      dx[i] = rstd[c] * (dy[i] * (w ? w[c] : 1) - sG[c] / B - xh * (sGX[c] / B));
    }
  }
  const out = [cpuOutput(backend, [B, C], "float32", dx)];
  if (w) out.push(cpuOutput(backend, [C], "float32", Float32Array.from(dW)), cpuOutput(backend, [C], "float32", Float32Array.from(dB)));
  return out;
}

/** Composite of tfjs ops for backends without the kernel. */
export function batchNorm1dGradComposite(dy: tf.Tensor2D, x: tf.Tensor2D, weight: tf.Tensor1D | undefined, eps: number): tf.Tensor[] {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(x, mean), rstd);
    const g = weight ? tf.mul(dy, weight) : dy;
    const dx = tf.mul(rstd, tf.sub(tf.sub(g, tf.mean(g, 0)), tf.mul(xhat, tf.mean(tf.mul(g, xhat), 0))));
    return weight ? [dx, tf.sum(tf.mul(dy, xhat), 0), tf.sum(dy, 0)] : [dx];
  });
}

/** Gradient of BatchNorm1d's output: `[dx, dWeight, dBias]`, or `[dx]` without weight. */
export function batchNorm1dGrad(dy: tf.Tensor2D, x: tf.Tensor2D, weight: tf.Tensor1D | undefined, eps: number): tf.Tensor[] {
  if (!hasKernel(BATCH_NORM_1D_GRAD)) return batchNorm1dGradComposite(dy, x, weight, eps);
  const inputs: Record<string, tf.Tensor> = weight ? { dy, x, weight } : { dy, x };
  return tf.engine().runKernel(BATCH_NORM_1D_GRAD, inputs, { eps }) as unknown as tf.Tensor[];
}

registerCpuKernel(BATCH_NORM_1D_GRAD, batchNorm1dGradCpu as unknown as tf.KernelFunc);
