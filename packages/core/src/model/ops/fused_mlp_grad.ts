// FusedMlpGrad (docs/ops.md): the gradient of FusedMlp from its saved pre-activation and
// activation: dW2 = dy^T act, db2 = colsum(dy), dPre = (dy W2) * GELU'(pre),
// dW1 = dPre^T x, db1 = colsum(dPre), dx = dPre W1, with GELU'(z) = Phi(z) + z phi(z).
import * as tf from "@tensorflow/tfjs-core";
import { erf } from "./erf.js";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "./kernel_util.js";
import { columnSums, gemm, rowMajor, transposed } from "./cpu_gemm.js";
import { geluErfGrad } from "./gelu_erf_grad.js";

export const FUSED_MLP_GRAD = "FusedMlpGrad";
const INV_SQRT_2PI = 0.3989422804014327;

/** CPU kernel: outputs [dx, dFc1W, dFc1B, dFc2W, dFc2B]. */
function fusedMlpGradCpu({ inputs, backend }: { inputs: Record<string, tf.TensorInfo>; backend: unknown }): tf.TensorInfo[] {
  const shape = inputs.x.shape;
  const D = shape[shape.length - 1], Hd = inputs.fc1W.shape[0];
  const R = tf.util.sizeFromShape(shape) / D;
  const v = (t: tf.TensorInfo) => cpuValues<Float32Array>(backend, t);
  const dy = v(inputs.dy), x = v(inputs.x), fc1W = v(inputs.fc1W), fc2W = v(inputs.fc2W), pre = v(inputs.pre), act = v(inputs.act);
  const dFc2W = new Float32Array(D * Hd);
  gemm(D, Hd, R, transposed(rowMajor(dy, 0, D)), rowMajor(act, 0, Hd), rowMajor(dFc2W, 0, Hd));
  const dPre = new Float32Array(R * Hd);
  gemm(R, Hd, D, rowMajor(dy, 0, D), rowMajor(fc2W, 0, Hd), rowMajor(dPre, 0, Hd));
  for (let i = 0; i < dPre.length; i++) {
    const z = pre[i];
    dPre[i] *= 0.5 * (1 + erf(z * Math.SQRT1_2)) + z * INV_SQRT_2PI * Math.exp(-0.5 * z * z);
  }
  const dFc1W = new Float32Array(Hd * D);
  gemm(Hd, D, R, transposed(rowMajor(dPre, 0, Hd)), rowMajor(x, 0, D), rowMajor(dFc1W, 0, D));
  const dx = new Float32Array(R * D);
  gemm(R, D, Hd, rowMajor(dPre, 0, Hd), rowMajor(fc1W, 0, D), rowMajor(dx, 0, D));
  return [
    cpuOutput(backend, shape, "float32", dx),
    cpuOutput(backend, [Hd, D], "float32", dFc1W),
    cpuOutput(backend, [Hd], "float32", columnSums(dPre, R, Hd)),
    cpuOutput(backend, [D, Hd], "float32", dFc2W),
    cpuOutput(backend, [D], "float32", columnSums(dy, R, D)),
  ];
}

type MlpGrads = [tf.Tensor, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];

/** The same gradient from tfjs ops (for backends with FusedMlp but no grad kernel). */
export function fusedMlpGradComposite(dy: tf.Tensor, x: tf.Tensor, fc1W: tf.Tensor2D, fc2W: tf.Tensor2D, pre: tf.Tensor, act: tf.Tensor): MlpGrads {
  const D = x.shape[x.rank - 1], Hd = fc1W.shape[0];
  return tf.tidy(() => {
    const dy2 = tf.reshape(dy, [-1, D]) as tf.Tensor2D;
    const pre2 = tf.reshape(pre, [-1, Hd]);
    const dFc2W = tf.matMul(dy2, tf.reshape(act, [-1, Hd]), true, false) as tf.Tensor2D;
    const dPre = geluErfGrad(tf.matMul(dy2, fc2W), pre2) as tf.Tensor2D;
    const dFc1W = tf.matMul(dPre, tf.reshape(x, [-1, D]), true, false) as tf.Tensor2D;
    const dx = tf.reshape(tf.matMul(dPre, fc1W), x.shape);
    return [dx, dFc1W, tf.sum(dPre, 0) as tf.Tensor1D, dFc2W, tf.sum(dy2, 0) as tf.Tensor1D] as MlpGrads;
  });
}

/** Gradient of FusedMlp: `[dx, dFc1W, dFc1B, dFc2W, dFc2B]` from its saved pre and act. */
export function fusedMlpGrad(dy: tf.Tensor, x: tf.Tensor, fc1W: tf.Tensor2D, fc2W: tf.Tensor2D, pre: tf.Tensor, act: tf.Tensor): MlpGrads {
  if (!hasKernel(FUSED_MLP_GRAD)) return fusedMlpGradComposite(dy, x, fc1W, fc2W, pre, act);
  return tf.engine().runKernel(FUSED_MLP_GRAD, { dy, x, fc1W, fc2W, pre, act }) as unknown as MlpGrads;
}

registerCpuKernel(FUSED_MLP_GRAD, fusedMlpGradCpu as unknown as tf.KernelFunc);
