// GeluErfGrad (docs/ops.md): dx = dy * (Phi(x) + x * phi(x)).
import * as tf from "@tensorflow/tfjs-core";
import { erf } from "./erf.js";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "./kernel_util.js";

export const GELU_ERF_GRAD = "GeluErfGrad";
const INV_SQRT_2PI = 0.3989422804014327;

function geluErfGradCpu({ inputs, backend }: { inputs: { dy: tf.TensorInfo; x: tf.TensorInfo }; backend: unknown }): tf.TensorInfo {
  const dy = cpuValues<Float32Array>(backend, inputs.dy);
  const x = cpuValues<Float32Array>(backend, inputs.x);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const cdf = 0.5 * (1 + erf(xi * Math.SQRT1_2));
    const pdf = INV_SQRT_2PI * Math.exp(-0.5 * xi * xi);
    out[i] = dy[i] * (cdf + xi * pdf);
  }
  return cpuOutput(backend, inputs.x.shape, "float32", out);
}

/** Composite of tfjs ops for backends without the kernel. */
export function geluErfGradComposite(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(x))));
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  });
}

/** Gradient of GeluErf w.r.t. x for upstream dy (same shape). */
export function geluErfGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (!tf.util.arraysEqual(dy.shape, x.shape)) throw new Error(`${GELU_ERF_GRAD}: dy [${dy.shape}] and x [${x.shape}] differ in shape`);
  if (!hasKernel(GELU_ERF_GRAD)) return geluErfGradComposite(dy, x);
  return tf.engine().runKernel(GELU_ERF_GRAD, { dy, x }) as tf.Tensor;
}

registerCpuKernel(GELU_ERF_GRAD, geluErfGradCpu as unknown as tf.KernelFunc);
