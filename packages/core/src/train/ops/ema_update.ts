// EmaUpdate (docs/ops.md): the momentum (teacher) encoder's update of N parameters in one kernel
// (multi-tensor apply), per parameter
//   target' = target + (source - target)*(1-m),
// the lerp form of target*m + source*(1-m): exact where source equals target (a momentum encoder
// equal to its base encoder, as at step 0, stays equal; the product form moves it by an ulp).
// 1-m is rounded to float32 and the difference, product and sum each rounded, in that order —
// what the composite of tfjs ops computes — so the fused kernel and the composite agree bit for bit.
// Kernel inputs `target0, source0, target1, source1, ...`, attrs `{ momentum }`, outputs
// `[target0', target1', ...]`: one kernel per step instead of three per parameter (and no scalar
// tensors to upload).
import * as tf from "@tensorflow/tfjs-core";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "../../model/ops/kernel_util.js";

export const EMA_UPDATE = "EmaUpdate";

function emaUpdateCpu({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const f = Math.fround;
  const b = f(1 - (attrs.momentum as number));
  const outs: tf.TensorInfo[] = [];
  for (let k = 0; `target${k}` in inputs; k++) {
    const target = inputs[`target${k}`];
    const t = cpuValues<Float32Array>(backend, target);
    const s = cpuValues<Float32Array>(backend, inputs[`source${k}`]);
    const out = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) out[i] = f(t[i] + f(f(s[i] - t[i]) * b));
    outs.push(cpuOutput(backend, target.shape, "float32", out));
  }
  return outs;
}

/** Composite of tfjs ops for one parameter, for backends without the kernel. */
export function emaUpdateComposite(target: tf.Tensor, source: tf.Tensor, momentum: number): tf.Tensor {
  return tf.tidy(() => tf.add(target, tf.mul(tf.sub(source, target), 1 - momentum)));
}

/**
 * `target + (source-target)*(1-momentum)` of every pair in one kernel: new float32 tensors, in
 * order (inputs are not changed). Without the kernel, the composite runs pair by pair.
 */
export function emaUpdateMulti(pairs: [target: tf.Tensor, source: tf.Tensor][], momentum: number): tf.Tensor[] {
  const inputs: Record<string, tf.Tensor> = {};
  pairs.forEach(([target, source], k) => {
    const where = pairs.length === 1 ? "" : ` (pair ${k})`;
    for (const [name, t] of [["target", target], ["source", source]] as const) {
      if (t.dtype !== "float32") throw new Error(`${EMA_UPDATE}: ${name} must be float32, got ${t.dtype}${where}`);
    }
    if (!tf.util.arraysEqual(source.shape, target.shape)) {
      throw new Error(`${EMA_UPDATE}: source has shape [${source.shape}], target has [${target.shape}]${where}`);
    }
    inputs[`target${k}`] = target;
    inputs[`source${k}`] = source;
  });
  if (!Number.isFinite(momentum)) throw new Error(`${EMA_UPDATE}: momentum must be a finite number, got ${momentum}`);
  if (pairs.length === 0) return [];
  if (!hasKernel(EMA_UPDATE)) return pairs.map(([target, source]) => emaUpdateComposite(target, source, momentum));
  return tf.engine().runKernel(EMA_UPDATE, inputs, { momentum }) as unknown as tf.Tensor[];
}

/** `target + (source-target)*(1-momentum)` as a new float32 tensor (the kernel with one pair). */
export function emaUpdate(target: tf.Tensor, source: tf.Tensor, momentum: number): tf.Tensor {
  return emaUpdateMulti([[target, source]], momentum)[0];
}

registerCpuKernel(EMA_UPDATE, emaUpdateCpu as unknown as tf.KernelFunc);
