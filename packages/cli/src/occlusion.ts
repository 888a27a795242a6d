// Occlusion robustness: linear-probe accuracy when a fraction of each test image's patches is
// dropped. The probe is trained on clean (dense) features and scored on occluded test features,
// so the number measures how well the encoder's features survive missing patches (the paper's
// claim that DILEMMA's sparse inputs make the model robust to occlusion).
import * as tf from "@tensorflow/tfjs-core";
import type { SSLMethod } from "@dilemma/core";
import { sampleDilemma } from "@dilemma/core";
import type { Sample } from "./data/index.js";
import { extractFeatures } from "./evaluate.js";
import { samplesToTensor, type Normalize } from "./images.js";
import { linearProbeAccuracy } from "./metrics.js";

export interface OcclusionOptions {
  /** Fractions of patches dropped, each in [0, 1) (default 0.25, 0.5, 0.75). */
  fractions?: number[];
  /** Seed of the dropped patches (same seed = same patches for every run). */
  seed?: number;
  probeIterations?: number;
  batch?: number;
}

export const OCCLUSION_FRACTIONS = [0.25, 0.5, 0.75] as const;

/**
 * cls features [N, D] of `samples` with `fraction` of each image's patches dropped at random:
 * the kept patches keep their own positions (realPos = inputPos, no corruption).
 */
export function occludedFeatures(method: SSLMethod, samples: Sample[], imgSize: number, norm: Normalize, fraction: number, seed: number, batch = 64): tf.Tensor2D {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`occlusion fraction must be in [0, 1), got ${fraction}`);
  const enc = method.encoder;
  // Philox counter from 0 for each call: a seed and fraction give the same patches every time.
  const rng = { seed, counter: 0 };
  const parts: tf.Tensor2D[] = [];
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const s = sampleDilemma({ batch: chunk.length, numPatches: enc.numPatches, tokenDrop: fraction, dilemmaProb: 0, rng });
    const x = samplesToTensor(chunk, imgSize, norm);
    parts.push(tf.tidy(() => {
      const shape: [number, number] = [s.batch, s.numKept];
      const realPos = tf.tensor2d(s.realPos, shape, "int32");
      return enc.forward(x, { realPos, inputPos: realPos }).cls;
    }));
    x.dispose();
  }
  if (parts.length === 1) return parts[0];
  const out = tf.concat(parts, 0);
  tf.dispose(parts);
  return out;
}

/**
 * Probe accuracy per dropped fraction: the probe is fit on clean features of `bank` and scored
 * on occluded features of `tests`. Returns `{ "0.25": acc, ... }` keyed by fraction.
 */
export function occlusionEval(method: SSLMethod, bank: Sample[], tests: Sample[], numClasses: number, imgSize: number, norm: Normalize, o: OcclusionOptions = {}): Record<string, number> {
  const fractions = o.fractions ?? [...OCCLUSION_FRACTIONS];
  const train = extractFeatures(method, bank, imgSize, norm, o.batch);
  const labels = Int32Array.from(tests, (s) => s.label);
  const out: Record<string, number> = {};
  try {
    for (const f of fractions) {
      const feats = occludedFeatures(method, tests, imgSize, norm, f, o.seed ?? 0, o.batch);
      try {
        // The probe's fit is deterministic (zero init, full-batch Adam), so refitting per
        // fraction gives the same probe each time.
        out[String(f)] = linearProbeAccuracy(train.feats, train.labels, feats, labels, numClasses, { iterations: o.probeIterations ?? 300 });
      } finally {
        feats.dispose();
      }
    }
  } finally {
    train.feats.dispose();
  }
  return out;
}
