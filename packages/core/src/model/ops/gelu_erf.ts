// GeluErf (docs/ops.md): exact GELU 0.5 * x * (1 + erf(x / sqrt(2))) as one fused op (the
// composite costs several kernels per call).
import * as tf from "@tensorflow/tfjs-core";
import { erf } from "./erf.js";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel, registerGradientOnce } from "./kernel_util.js";
import { geluErfGrad } from "./gelu_erf_grad.js";

export const GELU_ERF = "GeluErf";

function geluErfCpu({ inputs, backend }: { inputs: { x: tf.TensorInfo }; backend: unknown }): tf.TensorInfo {
  const x = cpuValues<Float32Array>(backend, inputs.x);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 0.5 * x[i] * (1 + erf(x[i] * Math.SQRT1_2));
  return cpuOutput(backend, inputs.x.shape, "float32", out);
}

/** Composite of tfjs ops (tf.erf is a ~1e-7 approximation; fine for float32). */
export function geluErfComposite<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))) as T;
}

/** Exact (erf) GELU, elementwise on a float32 tensor of any shape. */
export function geluErf<T extends tf.Tensor>(x: T): T {
  if (x.dtype !== "float32") throw new Error(`${GELU_ERF}: x must be float32, got ${x.dtype}`);
  if (!hasKernel(GELU_ERF)) return geluErfComposite(x);
  return tf.engine().runKernel(GELU_ERF, { x }) as T;
}

registerCpuKernel(GELU_ERF, geluErfCpu as unknown as tf.KernelFunc);

registerGradientOnce({
  kernelName: GELU_ERF,
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => ({ x: () => geluErfGrad(dy as tf.Tensor, saved[0]) }),
});
