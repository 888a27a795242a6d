// AdamWUpdate (docs/cuda-engine.md): one fused AdamW step for one parameter, out of place.
//   m' = m*b1 + g*(1-b1);  v' = v*b2 + (g*g)*(1-b2);  d = wd == 0 ? p : p*(1-lr*wd)
//   p' = d - (m' / (sqrt(v')/sqrtBc2 + eps)) * stepSize
// Every constant and intermediate is rounded to float32 in that order, which is what the
// composite of tfjs ops does (each op writes a Float32Array), so the two agree bit for bit.
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

type Inputs = { param: tf.TensorInfo; grad: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo };

function adamWUpdateCpu({ inputs, backend, attrs }: { inputs: Inputs; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const a = attrs as unknown as AdamWUpdateAttrs;
  const f = Math.fround;
  const p = cpuValues<Float32Array>(backend, inputs.param);
  const g = cpuValues<Float32Array>(backend, inputs.grad);
  const m = cpuValues<Float32Array>(backend, inputs.m);
  const v = cpuValues<Float32Array>(backend, inputs.v);
  // the constants as the composite's scalar tensors hold them (computed in double, then float32)
  const b1 = f(a.beta1), c1 = f(1 - a.beta1), b2 = f(a.beta2), c2 = f(1 - a.beta2);
  const decay = f(1 - a.lr * a.weightDecay), sqrtBc2 = f(a.sqrtBc2), eps = f(a.eps), stepSize = f(a.stepSize);
  const wd = a.weightDecay !== 0;
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
  const shape = inputs.param.shape;
  return [cpuOutput(backend, shape, "float32", pOut), cpuOutput(backend, shape, "float32", mOut), cpuOutput(backend, shape, "float32", vOut)];
}

/** Composite of tfjs ops (the pre-fusion AdamW update), for backends without the kernel. */
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

/** One AdamW step: `[param', m', v']` (float32 tensors of param's shape; inputs are not changed). */
export function adamWUpdate(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamWUpdateAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  for (const [name, t] of [["param", param], ["grad", grad], ["m", m], ["v", v]] as const) {
    if (t.dtype !== "float32") throw new Error(`${ADAMW_UPDATE}: ${name} must be float32, got ${t.dtype}`);
    if (!tf.util.arraysEqual(t.shape, param.shape)) throw new Error(`${ADAMW_UPDATE}: ${name} has shape [${t.shape}], param has [${param.shape}]`);
  }
  if (!hasKernel(ADAMW_UPDATE)) return adamWUpdateComposite(param, grad, m, v, attrs);
  const out = tf.engine().runKernel(ADAMW_UPDATE, { param, grad, m, v }, { ...attrs }) as unknown as tf.Tensor[];
  return [out[0], out[1], out[2]];
}

registerCpuKernel(ADAMW_UPDATE, adamWUpdateCpu as unknown as tf.KernelFunc);
