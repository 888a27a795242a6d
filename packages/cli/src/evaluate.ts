// Frozen-encoder evaluation: kNN, linear probe and detection, used by `train` (periodically)
// and by `dilemma-cli eval`.
import * as tf from "@tensorflow/tfjs-core";
import type { SSLMethod } from "@dilemma/core";
import { sampleDilemma } from "@dilemma/core";
import type { Dataset, Sample } from "./data/index.js";
import { samplesToTensor, type Normalize } from "./images.js";
import { detectionScores, knnAccuracy, linearProbeAccuracy, type DetectionScores } from "./metrics.js";

/** cls features [N, D] of `samples` (batched) and their labels. */
export function extractFeatures(method: SSLMethod, samples: Sample[], imgSize: number, norm: Normalize, batch = 64): { feats: tf.Tensor2D; labels: Int32Array } {
  const parts: tf.Tensor2D[] = [];
  for (let i = 0; i < samples.length; i += batch) {
    const x = samplesToTensor(samples.slice(i, i + batch), imgSize, norm);
    parts.push(method.features(x));
    x.dispose();
  }
  const feats = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  if (parts.length > 1) tf.dispose(parts);
  return { feats, labels: Int32Array.from(samples, (s) => s.label) };
}

export interface DetectionOptions { tokenDrop: number; dilemmaProb: number; seed: number; batch?: number }

/**
 * Detection accuracy / AUROC on `samples` under seeded DILEMMA corruptions (Philox counter
 * starts at 0 for each call, so a seed gives the same corruptions every time).
 */
export function detectionEval(method: SSLMethod, samples: Sample[], imgSize: number, patchSize: number, norm: Normalize, o: DetectionOptions): DetectionScores {
  const L = (imgSize / patchSize) ** 2;
  const batch = o.batch ?? 64;
  const rng = { seed: o.seed, counter: 0 };
  const probs: number[] = [], labels: number[] = [];
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const sample = sampleDilemma({ batch: chunk.length, numPatches: L, tokenDrop: o.tokenDrop, dilemmaProb: o.dilemmaProb, rng });
    const x = samplesToTensor(chunk, imgSize, norm);
    const p = method.detect(x, sample);
    probs.push(...p.dataSync());
    labels.push(...sample.labels);
    tf.dispose([x, p]);
  }
  return detectionScores(probs, labels);
}

/** kNN accuracy of the current encoder (train bank vs val queries). */
export function knnEval(method: SSLMethod, bank: Sample[], queries: Sample[], ds: Pick<Dataset, "numClasses">, imgSize: number, norm: Normalize, k = 20): number {
  const a = extractFeatures(method, bank, imgSize, norm);
  const b = extractFeatures(method, queries, imgSize, norm);
  try {
    return knnAccuracy(a.feats, a.labels, b.feats, b.labels, ds.numClasses, k);
  } finally {
    tf.dispose([a.feats, b.feats]);
  }
}

/** Linear-probe accuracy of the current encoder. */
export function probeEval(method: SSLMethod, bank: Sample[], queries: Sample[], numClasses: number, imgSize: number, norm: Normalize, iterations = 300): number {
  const a = extractFeatures(method, bank, imgSize, norm);
  const b = extractFeatures(method, queries, imgSize, norm);
  try {
    return linearProbeAccuracy(a.feats, a.labels, b.feats, b.labels, numClasses, { iterations });
  } finally {
    tf.dispose([a.feats, b.feats]);
  }
}

/** Labelled samples only (kNN and the probe need labels). */
export function labelled(samples: Sample[]): Sample[] {
  return samples.filter((s) => s.label >= 0);
}
