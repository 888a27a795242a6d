// EmaUpdate (docs/cuda-engine.md): the momentum (teacher) encoder's update for one parameter,
//   target' = target + (source - target)*(1-m),
// the lerp form of target*m + source*(1-m): exact where source equals target (a momentum encoder
// equal to its base encoder, as at step 0, stays equal; the product form moves it by an ulp).
// 1-m is rounded to float32 and the difference, product and sum each rounded, in that order —
// what the composite of tfjs ops computes — so the fused kernel and the composite agree bit for bit.
// One kernel per parameter instead of three (and no scalar tensors to upload per parameter).
import * as tf from "@tensorflow/tfjs-core";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "../../model/ops/kernel_util.js";

export const EMA_UPDATE = "EmaUpdate";

function emaUpdateCpu({ inputs, backend, attrs }: { inputs: { target: tf.TensorInfo; source: tf.TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo {
  const f = Math.fround;
  const momentum = attrs.momentum as number;
  const t = cpuValues<Float32Array>(backend, inputs.target);
  const s = cpuValues<Float32Array>(backend, inputs.source);
  const b = f(1 - momentum);
  const out = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = f(t[i] + f(f(s[i] - t[i]) * b));
  return cpuOutput(backend, inputs.target.shape, "float32", out);
}

/** Composite of tfjs ops, for backends without the kernel. */
export function emaUpdateComposite(target: tf.Tensor, source: tf.Tensor, momentum: number): tf.Tensor {
  return tf.tidy(() => tf.add(target, tf.mul(tf.sub(source, target), 1 - momentum)));
}

/** `target + (source-target)*(1-momentum)` as a new float32 tensor (inputs are not changed). */
export function emaUpdate(target: tf.Tensor, source: tf.Tensor, momentum: number): tf.Tensor {
  for (const [name, t] of [["target", target], ["source", source]] as const) {
    if (t.dtype !== "float32") throw new Error(`${EMA_UPDATE}: ${name} must be float32, got ${t.dtype}`);
  }
  if (!tf.util.arraysEqual(source.shape, target.shape)) {
    throw new Error(`${EMA_UPDATE}: source has shape [${source.shape}], target has [${target.shape}]`);
  }
  if (!Number.isFinite(momentum)) throw new Error(`${EMA_UPDATE}: momentum must be a finite number, got ${momentum}`);
  if (!hasKernel(EMA_UPDATE)) return emaUpdateComposite(target, source, momentum);
  return tf.engine().runKernel(EMA_UPDATE, { target, source }, { momentum }) as tf.Tensor;
}

registerCpuKernel(EMA_UPDATE, emaUpdateCpu as unknown as tf.KernelFunc);
