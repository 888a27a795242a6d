// Per-step schedules (learning rate, EMA momentum, DINO teacher temperature) and gradient clipping.
import * as tf from "@tensorflow/tfjs-core";

export interface LrSchedule { lr: number; warmupSteps: number; totalSteps: number; minLr?: number }

/**
 * Linear warm-up to `lr` over `warmupSteps` (step 0 gets `lr / warmupSteps`, so no step is
 * wasted at zero), then half-cosine decay to `minLr` (default 0) at `totalSteps`.
 */
export function cosineLr(step: number, s: LrSchedule): number {
  const minLr = s.minLr ?? 0;
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const t = Math.min(1, (step - s.warmupSteps) / span);
  return minLr + (s.lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** MoCo v3 / DINO EMA momentum: `m = 1 - (1 - m0) * (cos(pi * t / T) + 1) / 2`, m0 at t=0, 1 at t=T. */
export function momentumAt(step: number, base: number, totalSteps: number): number {
  const t = Math.min(1, step / Math.max(1, totalSteps));
  return 1 - (1 - base) * (Math.cos(Math.PI * t) + 1) / 2;
}

/** DINO teacher temperature: linear from `warmup` to `final` over `warmupSteps`, then constant. */
export function teacherTempAt(step: number, warmup: number, final: number, warmupSteps: number): number {
  if (step >= warmupSteps) return final;
  return warmup + ((final - warmup) * step) / warmupSteps;
}

/**
 * Clip gradients by their global L2 norm as `torch.nn.utils.clip_grad_norm_`:
 * scale = min(1, maxNorm / (norm + 1e-6)). Stays on the device (no host read).
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): Map<string, tf.Tensor> {
  const scale = tf.tidy(() => {
    const norm = tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
    return tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  });
  const out = new Map<string, tf.Tensor>();
  for (const [n, g] of grads) out.set(n, tf.mul(g, scale));
  scale.dispose();
  return out;
}
