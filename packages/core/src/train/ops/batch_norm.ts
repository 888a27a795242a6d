// BatchNorm1d in training mode (docs/ops.md), as torch.batch_norm(training=True) on x [B, C]:
//   y = (x - mean) * rstd * weight + bias     (batch mean, biased variance, rstd = 1/sqrt(var + eps))
//   runningMean' = (1 - m) * runningMean + m * mean;  runningVar' = (1 - m) * runningVar + m * var * B/(B-1)
// Fused because the composite is many small kernels (in MoCo v3's projector and predictor, 99
// forward and 473 with the backward pass per view), and a step runs it 16 times.
import * as tf from "@tensorflow/tfjs-core";
import { columnStats, cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "../../model/ops/kernel_util.js";
import { batchNorm1dGrad } from "./batch_norm_grad.js";

export const BATCH_NORM_1D = "BatchNorm1d";

export interface BatchNorm1dAttrs {
  eps: number;
  /** Running-statistics momentum, PyTorch convention. */
  momentum: number;
}

/**
 * The affine parameters (absent for `affine=False`) and the running statistics, all [C]. The
 * running statistics are variables: a training-mode forward updates them in place, as torch's
 * `batch_norm(training=True)` does.
 */
export interface BatchNorm1dParams {
  weight?: tf.Tensor;
  bias?: tf.Tensor;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** CPU kernel: outputs [y [B, C], runningMean' [C], runningVar' [C]]. */
function batchNorm1dCpu({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo | undefined>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const { eps, momentum: m } = attrs as unknown as BatchNorm1dAttrs;
  const v = (t: tf.TensorInfo) => cpuValues<Float32Array>(backend, t);
  const [B, C] = inputs.x!.shape;
  const x = v(inputs.x!);
  const w = inputs.weight ? v(inputs.weight) : null;
  const bias = inputs.bias ? v(inputs.bias) : null;
  const rm = v(inputs.runningMean!), rv = v(inputs.runningVar!);
  const { mean, variance, rstd } = columnStats(x, B, C, eps);
  const y = new Float32Array(B * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) y[b * C + c] = (x[b * C + c] - mean[c]) * rstd[c] * (w ? w[c] : 1) + (bias ? bias[c] : 0);
  }
  const rm2 = new Float32Array(C), rv2 = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    rm2[c] = (1 - m) * rm[c] + m * mean[c];
    rv2[c] = (1 - m) * rv[c] + m * variance[c] * (B / (B - 1));
  }
  return [cpuOutput(backend, [B, C], "float32", y), cpuOutput(backend, [C], "float32", rm2), cpuOutput(backend, [C], "float32", rv2)];
}

function checkShapes(x: tf.Tensor, p: BatchNorm1dParams): void {
  const op = BATCH_NORM_1D;
  if (x.rank !== 2 || x.dtype !== "float32") throw new Error(`${op}: x must be float32 [B, C], got ${x.dtype} [${x.shape}]`);
  const [B, C] = x.shape;
  if (B < 2) throw new Error(`BatchNorm1d: training needs a batch of at least 2 (got ${B})`);
  if ((p.weight === undefined) !== (p.bias === undefined)) throw new Error(`${op}: give both weight and bias, or neither`);
  const named: [string, tf.Tensor | undefined][] = [["weight", p.weight], ["bias", p.bias], ["runningMean", p.runningMean], ["runningVar", p.runningVar]];
  for (const [name, t] of named) {
    if (t !== undefined && (t.rank !== 1 || t.shape[0] !== C || t.dtype !== "float32")) {
      throw new Error(`${op}: ${name} must be float32 [${C}] for x [${x.shape}], got ${t.dtype} [${t.shape}]`);
    }
  }
}

/** Composite of tfjs ops for backends without the kernel (autodiff by tfjs); updates the running statistics. */
export function batchNorm1dComposite(x: tf.Tensor2D, p: BatchNorm1dParams, a: BatchNorm1dAttrs): tf.Tensor2D {
  checkShapes(x, p);
  const n = x.shape[0], m = a.momentum;
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0);
    let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, a.eps)));
    if (p.weight && p.bias) y = tf.add(tf.mul(y, p.weight), p.bias);
    // (no loss depends on the new statistics, so no gradient flows through them)
    p.runningMean.assign(tf.add(tf.mul(p.runningMean, 1 - m), tf.mul(mean, m)));
    p.runningVar.assign(tf.add(tf.mul(p.runningVar, 1 - m), tf.mul(tf.mul(variance, n / (n - 1)), m)));
    return y as tf.Tensor2D;
  });
}

/**
 * BatchNorm1d in training mode on float32 x `[B, C]` (B >= 2): returns y and updates
 * `p.runningMean` / `p.runningVar`. Runs the backend's BatchNorm1d kernel when registered
 * (gradient: BatchNorm1dGrad, which recomputes the batch statistics from x), else a composite
 * of tfjs ops.
 */
export function batchNorm1d(x: tf.Tensor2D, p: BatchNorm1dParams, a: BatchNorm1dAttrs): tf.Tensor2D {
  if (!hasKernel(BATCH_NORM_1D)) return batchNorm1dComposite(x, p, a);
  checkShapes(x, p);
  const attrs = { eps: a.eps, momentum: a.momentum };
  const run = (xx: tf.Tensor, weight?: tf.Tensor, bias?: tf.Tensor): tf.Tensor2D => {
    const inputs: Record<string, tf.Tensor> = { x: xx, runningMean: p.runningMean, runningVar: p.runningVar };
    if (weight && bias) Object.assign(inputs, { weight, bias });
    const [y, rm, rv] = tf.engine().runKernel(BATCH_NORM_1D, inputs, attrs) as unknown as tf.Tensor[];
    p.runningMean.assign(rm);
    p.runningVar.assign(rv);
    tf.dispose([rm, rv]);
    return y as tf.Tensor2D;
  };
  if (!tf.engine().isTapeOn()) return run(x, p.weight, p.bias);
  // Under a tape: one custom-gradient node saving x and weight only.
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xx, weight, bias] = args.slice(0, -1) as tf.Tensor[];
    save(weight ? [xx, weight] : [xx]);
    return {
      value: run(xx, weight, bias),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => batchNorm1dGrad(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor1D | undefined, a.eps),
    };
  });
  return (p.weight && p.bias ? f(x, p.weight, p.bias) : f(x)) as tf.Tensor2D;
}

registerCpuKernel(BATCH_NORM_1D, batchNorm1dCpu as unknown as tf.KernelFunc);
