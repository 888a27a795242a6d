import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { DetectionHead, bceWithLogits, detectionMetrics } from "../../src/index.js";

describe("bceWithLogits", () => {
  it("equals the naive mean BCE and is stable for large logits", () => {
    const x = [-3, -0.5, 0, 0.7, 4];
    const y = [0, 1, 1, 0, 1];
    const naive = x.reduce((s, xi, i) => {
      const p = 1 / (1 + Math.exp(-xi));
      return s - (y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p));
    }, 0) / x.length;
    expect(bceWithLogits(tf.tensor1d(x), tf.tensor1d(y)).dataSync()[0]).toBeCloseTo(naive, 6);
    const big = bceWithLogits(tf.tensor1d([200, -200]), tf.tensor1d([0, 1])).dataSync()[0];
    expect(big).toBeCloseTo(200, 3);
    expect(bceWithLogits(tf.tensor1d([200, -200]), tf.tensor1d([1, 0])).dataSync()[0]).toBe(0);
  });

  it("has gradient (sigmoid(x) - y) / n, also at x = 0", () => {
    const x = tf.tensor1d([-2, 0, 0, 1.5]);
    const y = tf.tensor1d([1, 0, 1, 0]);
    const g = tf.grad((t: tf.Tensor) => bceWithLogits(t, y))(x).dataSync();
    const ref = [-2, 0, 0, 1.5].map((v, i) => (1 / (1 + Math.exp(-v)) - [1, 0, 1, 0][i]) / 4);
    ref.forEach((r, i) => expect(g[i]).toBeCloseTo(r, 6));
  });

  it("rejects mismatched shapes", () => {
    expect(() => bceWithLogits(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(/same shape/);
  });
});

describe("detectionMetrics", () => {
  it("thresholds logits at 0 for accuracy, precision and recall", () => {
    const m = detectionMetrics([2, -1, 0.5, -3, 1], [1, 1, 0, 0, 1]);
    expect(m.accuracy).toBeCloseTo(3 / 5);
    expect(m.precision).toBeCloseTo(2 / 3);
    expect(m.recall).toBeCloseTo(2 / 3);
    // 3 positives, 2 negatives: chance is the majority rate; balanced = (2/3 + 1/2) / 2
    expect(m.chance).toBeCloseTo(3 / 5);
    expect(m.balancedAccuracy).toBeCloseTo((2 / 3 + 1 / 2) / 2);
  });

  it("a head that detects nothing scores chance (1 - p), balanced accuracy 0.5", () => {
    const labels = [1, 0, 0, 0, 0]; // p = 0.2
    const m = detectionMetrics([-5, -5, -5, -5, -5], labels);
    expect(m.accuracy).toBeCloseTo(0.8);
    expect(m.chance).toBeCloseTo(0.8);
    expect(m.balancedAccuracy).toBeCloseTo(0.5);
  });

  it("computes AUROC with ties as 1/2", () => {
    expect(detectionMetrics([0.1, 0.9], [0, 1]).auroc).toBe(1);
    expect(detectionMetrics([0.9, 0.1], [0, 1]).auroc).toBe(0);
    expect(detectionMetrics([0.5, 0.5], [0, 1]).auroc).toBe(0.5);
    // positives {3, 1}, negatives {1, 0}: pairs (3>1, 3>0, 1=1, 1>0) = 3.5 / 4
    expect(detectionMetrics([3, 1, 1, 0], [1, 1, 0, 0]).auroc).toBeCloseTo(0.875);
  });

  it("reports NaN where a metric is undefined", () => {
    const m = detectionMetrics([-1, -2], [0, 0]);
    expect(m.accuracy).toBe(1);
    expect(m.precision).toBeNaN();
    expect(m.recall).toBeNaN();
    expect(m.auroc).toBeNaN();
  });
});

describe("DetectionHead", () => {
  it("gives one logit per patch token: patches @ weight^T + bias", () => {
    const head = new DetectionHead(4, { seed: 1 });
    expect(head.params.get("weight")!.shape).toEqual([1, 4]);
    expect(head.params.get("bias")!.shape).toEqual([1]);
    head.setWeights({ "h.weight": tf.tensor2d([[1, 2, 3, 4]]), "h.bias": tf.tensor1d([0.5]) }, "h.");
    const p = tf.tensor3d([[[1, 0, 0, 0], [0, 1, 1, 0]], [[0, 0, 0, 1], [1, 1, 1, 1]]]);
    expect(Array.from(head.logits(p).dataSync())).toEqual([1.5, 5.5, 4.5, 10.5]);
    expect(head.logits(p).shape).toEqual([2, 2]);
    head.dispose();
  });

  it("starts as PyTorch's nn.Linear(D, 1): weight and bias uniform in +-1/sqrt(D), seeded", () => {
    // A head ~3x smaller (trunc normal 0.02) learned detection far more slowly than the PyTorch
    // reference (docs/learning-curve-parity.md), so the scale is pinned here.
    const D = 4096, bound = 1 / Math.sqrt(D);
    const heads = [new DetectionHead(D, { seed: 3 }), new DetectionHead(D, { seed: 3 }), new DetectionHead(D, { seed: 4 })];
    const w = heads.map((h) => Array.from(h.params.get("weight")!.dataSync()));
    const b = heads.map((h) => h.params.get("bias")!.dataSync()[0]);
    expect(Math.max(...w[0].map(Math.abs))).toBeLessThanOrEqual(bound);
    // uniform on +-bound has standard deviation bound / sqrt(3)
    const std = Math.sqrt(w[0].reduce((a, x) => a + x * x, 0) / D);
    expect(std / (bound / Math.sqrt(3))).toBeGreaterThan(0.95);
    expect(std / (bound / Math.sqrt(3))).toBeLessThan(1.05);
    expect(Math.abs(b[0])).toBeLessThanOrEqual(bound);
    expect(b[0]).not.toBe(0);
    expect(w[1]).toEqual(w[0]);
    expect(b[1]).toBe(b[0]);
    expect(w[2]).not.toEqual(w[0]);
    for (const h of heads) h.dispose();
  });
});
