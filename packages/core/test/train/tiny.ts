// Tiny configurations and inputs shared by the train suites (fast on a CPU).
import * as tf from "@tensorflow/tfjs-core";
import type { MethodConfig, RngState } from "../../src/api.js";
import { defaultMethodConfig, type PartialMethodConfig } from "../../src/train/create.js";

export const TINY_VIT = { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2 };

export function tinyConfig(p: PartialMethodConfig = {}): MethodConfig {
  return defaultMethodConfig({
    vit: TINY_VIT, tokenDrop: 0.5, dilemmaProb: 0.25, headHidden: 32, headOut: 16, seed: 3,
    ...p, optim: { lr: 1e-3, warmupSteps: 0, totalSteps: 100, weightDecay: 0.05, ...p.optim },
  });
}

/** Deterministic pseudo-random images [B, 3, 16, 16]. */
export function images(batch: number, seed: number): tf.Tensor4D {
  return tf.randomNormal([batch, 3, 16, 16], 0, 1, "float32", seed) as tf.Tensor4D;
}

export const rngAt = (seed = 11, counter = 0): RngState => ({ seed, counter });
