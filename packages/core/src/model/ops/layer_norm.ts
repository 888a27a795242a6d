// LayerNorm over the last axis (docs/ops.md): (x - mean) / sqrt(var + eps) * gamma + beta,
// biased variance. Fused because the composite costs ~8 kernels per call.
import * as tf from "@tensorflow/tfjs-core";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel, registerGradientOnce, rowStats } from "./kernel_util.js";
import { layerNormGrad } from "./layer_norm_grad.js";

export const LAYER_NORM = "LayerNorm";

function layerNormCpu({ inputs, backend, attrs }: { inputs: { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo {
  const eps = attrs.eps as number;
  const x = cpuValues<Float32Array>(backend, inputs.x);
  const gamma = cpuValues<Float32Array>(backend, inputs.gamma);
  const beta = cpuValues<Float32Array>(backend, inputs.beta);
  const D = gamma.length;
  const rows = x.length / D;
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    const { mean, rstd } = rowStats(x, o, D, eps);
    for (let d = 0; d < D; d++) out[o + d] = (x[o + d] - mean) * rstd * gamma[d] + beta[d];
  }
  return cpuOutput(backend, inputs.x.shape, "float32", out);
}

function checkShapes(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): void {
  const D = x.shape[x.rank - 1];
  if (x.rank < 1 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== D || beta.shape[0] !== D) {
    throw new Error(`${LAYER_NORM}: gamma and beta must be [${D}] for x [${x.shape}], got [${gamma.shape}] and [${beta.shape}]`);
  }
}

/** Composite of tfjs ops for backends without the kernel (autodiff by tfjs). */
export function layerNormComposite<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): T {
  checkShapes(x, gamma, beta);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xhat, gamma), beta);
  }) as T;
}

/** Layer normalisation over the last axis of float32 `x`, with scale `gamma` and shift `beta` ([D]). */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-6): T {
  if (!hasKernel(LAYER_NORM)) return layerNormComposite(x, gamma, beta, eps);
  checkShapes(x, gamma, beta);
  return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as T;
}

registerCpuKernel(LAYER_NORM, layerNormCpu as unknown as tf.KernelFunc);

registerGradientOnce({
  kernelName: LAYER_NORM,
  inputsToSave: ["x", "gamma"],
  gradFunc: (dy, saved, attrs) => {
    const [dx, dGamma, dBeta] = layerNormGrad(dy as tf.Tensor, saved[0], saved[1] as tf.Tensor1D, (attrs as { eps: number }).eps);
    return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
  },
});
