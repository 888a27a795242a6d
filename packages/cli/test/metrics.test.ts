import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@dilemma/core"; // registers gradients
import { describe, expect, it } from "vitest";
import { detectionScores, knnAccuracy, linearProbeAccuracy } from "../src/metrics.js";

/** Points around class centres (deterministic), with `noise` spread. */
function clusters(n: number, classes: number, dim: number, noise: number, seed: number): { x: tf.Tensor2D; y: Int32Array } {
  const centres = tf.randomNormal([classes, dim], 0, 1, "float32", 1).arraySync() as number[][];
  const eps = tf.randomNormal([n, dim], 0, noise, "float32", seed).arraySync() as number[][];
  const y = Int32Array.from({ length: n }, (_, i) => i % classes);
  return { x: tf.tensor2d(eps.map((row, i) => row.map((v, d) => v + centres[y[i]][d]))), y };
}

describe("metrics", () => {
  it("kNN separates clusters, and is at chance on shuffled labels", () => {
    const a = clusters(200, 4, 16, 0.3, 2), b = clusters(80, 4, 16, 0.3, 3);
    expect(knnAccuracy(a.x, a.y, b.x, b.y, 4)).toBeGreaterThan(0.95);
    const shuffled = Int32Array.from(a.y, (_, i) => Math.floor(i / 4) % 4); // independent of i % 4
    expect(knnAccuracy(a.x, shuffled, b.x, b.y, 4)).toBeLessThan(0.6);
    // k larger than the bank is clamped.
    expect(knnAccuracy(a.x, a.y, b.x, b.y, 4, 1000)).toBeGreaterThanOrEqual(0);
    tf.dispose([a.x, b.x]);
  });

  it("the linear probe learns a linearly separable problem", () => {
    const a = clusters(200, 3, 8, 0.2, 4), b = clusters(60, 3, 8, 0.2, 5);
    expect(linearProbeAccuracy(a.x, a.y, b.x, b.y, 3, { iterations: 100 })).toBeGreaterThan(0.95);
    expect(linearProbeAccuracy(a.x, a.y, b.x, b.y, 3, { iterations: 0 })).toBeLessThan(0.5);
    tf.dispose([a.x, b.x]);
  });

  it("detection accuracy and AUROC", () => {
    expect(detectionScores([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])).toMatchObject({ accuracy: 1, auroc: 1, positives: 2 });
    expect(detectionScores([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0])).toMatchObject({ accuracy: 0, auroc: 0 });
    expect(detectionScores([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]).auroc).toBe(0.5);
    expect(detectionScores([0.3, 0.7, 0.6], [0, 1, 0]).auroc).toBe(1);
    expect(detectionScores([0.3, 0.7], [0, 0]).auroc).toBeNaN();
  });

  it("reports detection accuracy beside its chance level: a head that detects nothing scores chance", () => {
    // p = 0.2: 2 of 10 tokens misplaced; answering "in place" everywhere is 80% right
    const labels = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    const nothing = detectionScores(labels.map(() => 0.1), labels);
    expect(nothing).toMatchObject({ accuracy: 0.8, chance: 0.8, balancedAccuracy: 0.5 });
    const perfect = detectionScores(labels.map((l) => (l ? 0.9 : 0.1)), labels);
    expect(perfect).toMatchObject({ accuracy: 1, chance: 0.8, balancedAccuracy: 1 });
    // one of two misplaced found, one false alarm among eight: (1/2 + 7/8) / 2
    const half = detectionScores([0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], labels);
    expect(half.accuracy).toBeCloseTo(0.8, 12);
    expect(half.balancedAccuracy).toBeCloseTo((0.5 + 7 / 8) / 2, 12);
    expect(detectionScores([0.3, 0.7], [0, 0]).balancedAccuracy).toBeNaN();
  });
});
