// LayerNormGrad (docs/ops.md): with xhat = (x - mean) * rstd and g = dy * gamma,
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dGamma = sum(dy * xhat), dBeta = sum(dy).
import * as tf from "@tensorflow/tfjs-core";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel, rowStats } from "./kernel_util.js";

export const LAYER_NORM_GRAD = "LayerNormGrad";

function layerNormGradCpu({ inputs, backend, attrs }: { inputs: { dy: tf.TensorInfo; x: tf.TensorInfo; gamma: tf.TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const eps = attrs.eps as number;
  const dy = cpuValues<Float32Array>(backend, inputs.dy);
  const x = cpuValues<Float32Array>(backend, inputs.x);
  const gamma = cpuValues<Float32Array>(backend, inputs.gamma);
  const D = gamma.length;
  const rows = x.length / D;
  const dx = new Float32Array(x.length);
  // Accumulate the parameter gradients in float64: they sum over every row.
  const dGamma = new Float64Array(D);
  const dBeta = new Float64Array(D);
  const xhat = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    const { mean, rstd } = rowStats(x, o, D, eps);
    let sumG = 0;
    let sumGX = 0;
    for (let d = 0; d < D; d++) {
      const xh = (x[o + d] - mean) * rstd;
      xhat[d] = xh;
      const g = dy[o + d] * gamma[d];
      sumG += g;
      sumGX += g * xh;
      dGamma[d] += dy[o + d] * xh;
      dBeta[d] += dy[o + d];
    }
    const mG = sumG / D;
    const mGX = sumGX / D;
    for (let d = 0; d < D; d++) dx[o + d] = rstd * (dy[o + d] * gamma[d] - mG - xhat[d] * mGX);
  }
  return [
    cpuOutput(backend, inputs.x.shape, "float32", dx),
    cpuOutput(backend, [D], "float32", Float32Array.from(dGamma)),
    cpuOutput(backend, [D], "float32", Float32Array.from(dBeta)),
  ];
}

/** Composite of tfjs ops for backends without the kernel. */
export function layerNormGradComposite(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor1D, eps: number): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  return tf.tidy(() => {
    const D = gamma.shape[0];
    const { mean, variance } = tf.moments(x, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(x, mean), rstd);
    const g = tf.mul(dy, gamma);
    const mG = tf.mean(g, -1, true);
    const mGX = tf.mean(tf.mul(g, xhat), -1, true);
    const dx = tf.mul(rstd, tf.sub(tf.sub(g, mG), tf.mul(xhat, mGX)));
    const dy2 = tf.reshape(dy, [-1, D]);
    const dGamma = tf.sum(tf.mul(dy2, tf.reshape(xhat, [-1, D])), 0) as tf.Tensor1D;
    const dBeta = tf.sum(dy2, 0) as tf.Tensor1D;
    return [dx, dGamma, dBeta] as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
  });
}

/** Gradient of LayerNorm: `[dx, dGamma, dBeta]`. */
export function layerNormGrad(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor1D, eps: number): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  if (!hasKernel(LAYER_NORM_GRAD)) return layerNormGradComposite(dy, x, gamma, eps);
  const out = tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x, gamma }, { eps }) as unknown as tf.Tensor[];
  return [out[0], out[1] as tf.Tensor1D, out[2] as tf.Tensor1D];
}

registerCpuKernel(LAYER_NORM_GRAD, layerNormGradCpu as unknown as tf.KernelFunc);
