// AdamWUpdate (docs/ops.md): one fused AdamW step for N parameters in one kernel (multi-tensor
// apply, as torch's foreach/fused AdamW), out of place. Per parameter:
//   m' = m*b1 + g*(1-b1);  v' = v*b2 + (g*g)*(1-b2);  d = wd == 0 ? p : p*(1-lr*wd)
//   p' = d - (m' / (sqrt(v')/sqrtBc2 + eps)) * stepSize
// Every constant and intermediate is rounded to float32 in that order, which is what the
// composite of tfjs ops does (each op writes a Float32Array), so the two agree bit for bit.
// Kernel inputs `param0, grad0, m0, v0, param1, ...`; attrs the step's scalars with
// `weightDecay` one number per parameter; outputs `[param0', m0', v0', param1', ...]`.
import * as tf from "@tensorflow/tfjs-core";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "../../model/ops/kernel_util.js";

export const ADAMW_UPDATE = "AdamWUpdate";

/** Scalars of one AdamW step (weightDecay already 0 for parameters without decay). */
export interface AdamWUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  sqrtBc2: number;
}

/** The scalars shared by every parameter of a step (weight decay is per parameter). */
export type AdamWStepAttrs = Omit<AdamWUpdateAttrs, "weightDecay">;

/** One parameter of a multi-tensor step: its tensors and its weight decay (0: none). */
export interface AdamWGroup {
  param: tf.Tensor;
  grad: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  weightDecay: number;
}

/** The kernel's attrs: the step's scalars and one weight decay per parameter. */
export type AdamWUpdateKernelAttrs = AdamWStepAttrs & { weightDecay: number[] };

/** The four inputs of each group, in kernel-input order (`param0, grad0, m0, v0, param1, ...`). */
const GROUP_INPUTS = ["param", "grad", "m", "v"] as const;

function adamWUpdateCpu({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const a = attrs as unknown as AdamWUpdateKernelAttrs;
  const f = Math.fround;
  // the constants as the composite's scalar tensors hold them (computed in double, then float32)
  const b1 = f(a.beta1), c1 = f(1 - a.beta1), b2 = f(a.beta2), c2 = f(1 - a.beta2);
  const sqrtBc2 = f(a.sqrtBc2), eps = f(a.eps), stepSize = f(a.stepSize);
  const outs: tf.TensorInfo[] = [];
  for (let k = 0; k < a.weightDecay.length; k++) {
    const param = inputs[`param${k}`];
    const p = cpuValues<Float32Array>(backend, param);
    const g = cpuValues<Float32Array>(backend, inputs[`grad${k}`]);
    const m = cpuValues<Float32Array>(backend, inputs[`m${k}`]);
    const v = cpuValues<Float32Array>(backend, inputs[`v${k}`]);
    const decay = f(1 - a.lr * a.weightDecay[k]);
    const wd = a.weightDecay[k] !== 0;
    const n = p.length;
    const pOut = new Float32Array(n), mOut = new Float32Array(n), vOut = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = f(f(m[i] * b1) + f(gi * c1));
      const vi = f(f(v[i] * b2) + f(f(gi * gi) * c2));
      const d = wd ? f(p[i] * decay) : p[i];
      const denom = f(f(f(Math.sqrt(vi)) / sqrtBc2) + eps);
      pOut[i] = f(d - f(f(mi / denom) * stepSize));
      mOut[i] = mi;
      vOut[i] = vi;
    }
    const shape = param.shape;
    outs.push(cpuOutput(backend, shape, "float32", pOut), cpuOutput(backend, shape, "float32", mOut), cpuOutput(backend, shape, "float32", vOut));
  }
  return outs;
}

/** Composite of tfjs ops (the pre-fusion AdamW update) for one parameter, for backends without the kernel. */
export function adamWUpdateComposite(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamWUpdateAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(grad, 1 - a.beta1));
    const v2 = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(grad), 1 - a.beta2));
    const decayed = a.weightDecay === 0 ? param : tf.mul(param, 1 - a.lr * a.weightDecay);
    const denom = tf.add(tf.div(tf.sqrt(v2), a.sqrtBc2), a.eps);
    const p2 = tf.sub(decayed, tf.mul(tf.div(m2, denom), a.stepSize));
    return [p2, m2, v2] as [tf.Tensor, tf.Tensor, tf.Tensor];
  });
}

/**
 * One AdamW step of every group in one kernel: `[param', m', v']` per group, in order (float32
 * tensors of the group's param shape; inputs are not changed). Without the kernel, the
 * composite runs group by group.
 */
export function adamWUpdateMulti(groups: AdamWGroup[], attrs: AdamWStepAttrs): [tf.Tensor, tf.Tensor, tf.Tensor][] {
  const inputs: Record<string, tf.Tensor> = {};
  groups.forEach((grp, k) => {
    const where = groups.length === 1 ? "" : ` (group ${k})`;
    for (const name of GROUP_INPUTS) {
      const t = grp[name];
      if (t.dtype !== "float32") throw new Error(`${ADAMW_UPDATE}: ${name} must be float32, got ${t.dtype}${where}`);
      if (!tf.util.arraysEqual(t.shape, grp.param.shape)) throw new Error(`${ADAMW_UPDATE}: ${name} has shape [${t.shape}], param has [${grp.param.shape}]${where}`);
      inputs[`${name}${k}`] = t;
    }
    if (!Number.isFinite(grp.weightDecay)) throw new Error(`${ADAMW_UPDATE}: weightDecay must be a finite number, got ${grp.weightDecay}${where}`);
  });
  if (groups.length === 0) return [];
  if (!hasKernel(ADAMW_UPDATE)) {
    return groups.map(({ param, grad, m, v, weightDecay }) => adamWUpdateComposite(param, grad, m, v, { ...attrs, weightDecay }));
  }
  const kernelAttrs: AdamWUpdateKernelAttrs = { ...attrs, weightDecay: groups.map((g) => g.weightDecay) };
  const out = tf.engine().runKernel(ADAMW_UPDATE, inputs, kernelAttrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  return groups.map((_, k) => [out[3 * k], out[3 * k + 1], out[3 * k + 2]]);
}

/** One AdamW step of one parameter: `[param', m', v']` (the kernel with one group). */
export function adamWUpdate(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamWUpdateAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const { weightDecay, ...step } = attrs;
  return adamWUpdateMulti([{ param, grad, m, v, weightDecay }], step)[0];
}

registerCpuKernel(ADAMW_UPDATE, adamWUpdateCpu as unknown as tf.KernelFunc);
