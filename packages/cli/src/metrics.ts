// Evaluation metrics on frozen features: kNN (DINO's weighted vote), a linear probe, and
// detection accuracy / AUROC.
import * as tf from "@tensorflow/tfjs-core";

/**
 * kNN accuracy as in DINO's eval_knn: cosine similarity to the `k` nearest training features,
 * each voting for its class with weight exp(sim / temperature).
 */
export function knnAccuracy(
  trainFeats: tf.Tensor2D, trainLabels: Int32Array, testFeats: tf.Tensor2D, testLabels: Int32Array,
  numClasses: number, k = 20, temperature = 0.07,
): number {
  const kk = Math.min(k, trainLabels.length);
  const { values, indices } = tf.tidy(() => {
    const a = tf.div(trainFeats, tf.add(tf.norm(trainFeats, 2, 1, true), 1e-12));
    const b = tf.div(testFeats, tf.add(tf.norm(testFeats, 2, 1, true), 1e-12));
    const sim = tf.matMul(b, a, false, true);
    return tf.topk(sim, kk);
  });
  const sims = values.dataSync(), idx = indices.dataSync();
  values.dispose();
  indices.dispose();
  let correct = 0;
  const votes = new Float64Array(numClasses);
  for (let i = 0; i < testLabels.length; i++) {
    votes.fill(0);
    for (let j = 0; j < kk; j++) votes[trainLabels[idx[i * kk + j]]] += Math.exp(sims[i * kk + j] / temperature);
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (votes[c] > votes[best]) best = c;
    if (best === testLabels[i]) correct++;
  }
  return correct / testLabels.length;
}

/**
 * Linear-probe accuracy: multinomial logistic regression on standardised frozen features,
 * full-batch Adam for `iterations` steps, scored on the test features.
 */
export function linearProbeAccuracy(
  trainFeats: tf.Tensor2D, trainLabels: Int32Array, testFeats: tf.Tensor2D, testLabels: Int32Array,
  numClasses: number, opts: { iterations?: number; lr?: number; weightDecay?: number } = {},
): number {
  const { iterations = 300, lr = 0.01, weightDecay = 1e-4 } = opts;
  const D = trainFeats.shape[1];
  const mean = tf.mean(trainFeats, 0, true);
  const std = tf.add(tf.sqrt(tf.mean(tf.square(tf.sub(trainFeats, mean)), 0, true)), 1e-6);
  const xTrain = tf.div(tf.sub(trainFeats, mean), std);
  const xTest = tf.div(tf.sub(testFeats, mean), std);
  const yTrain = tf.oneHot(tf.tensor1d(trainLabels, "int32"), numClasses);
  const W = tf.variable(tf.zeros([D, numClasses]));
  const b = tf.variable(tf.zeros([numClasses]));
  // Plain Adam written out: tfjs-core's optimizers need no extra package, but this keeps the
  // probe independent of any global optimizer registration.
  const m = [tf.zeros([D, numClasses]), tf.zeros([numClasses])];
  const v = [tf.zeros([D, numClasses]), tf.zeros([numClasses])];
  const params = [W, b];
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (let t = 1; t <= iterations; t++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const logits = tf.add(tf.matMul(xTrain, W), b);
        const ce = tf.neg(tf.mean(tf.sum(tf.mul(yTrain, tf.logSoftmax(logits)), 1)));
        return tf.add(ce, tf.mul(weightDecay, tf.sum(tf.square(W)))) as tf.Scalar;
      }, params);
      params.forEach((p, i) => {
        const g = grads[p.name];
        const mi = tf.add(tf.mul(b1, m[i]), tf.mul(1 - b1, g));
        const vi = tf.add(tf.mul(b2, v[i]), tf.mul(1 - b2, tf.square(g)));
        const mh = tf.div(mi, 1 - b1 ** t), vh = tf.div(vi, 1 - b2 ** t);
        p.assign(tf.sub(p, tf.mul(lr, tf.div(mh, tf.add(tf.sqrt(vh), eps)))));
        m[i].dispose(); v[i].dispose();
        m[i] = tf.keep(mi); v[i] = tf.keep(vi);
      });
    });
  }
  const pred = tf.tidy(() => tf.argMax(tf.add(tf.matMul(xTest, W), b), 1));
  const p = pred.dataSync();
  let correct = 0;
  for (let i = 0; i < testLabels.length; i++) if (p[i] === testLabels[i]) correct++;
  tf.dispose([mean, std, xTrain, xTest, yTrain, W, b, pred, ...m, ...v]);
  return correct / testLabels.length;
}

/** What {@link detectionScores} measures. */
export interface DetectionScores {
  /** Fraction right at threshold 0.5: read it against `chance`. */
  accuracy: number;
  /** Majority-class rate (1 - p at corruption rate p < 0.5): a head that detects nothing scores it. */
  chance: number;
  /** Mean recall of both classes: 0.5 = nothing detected (NaN with one class). */
  balancedAccuracy: number;
  /** Rank statistic, ties averaged; NaN with one class. */
  auroc: number;
  positives: number;
  count: number;
}

/** Detection accuracy (threshold 0.5) beside its chance level, balanced accuracy and AUROC. */
export function detectionScores(probs: ArrayLike<number>, labels: ArrayLike<number>): DetectionScores {
  const n = labels.length;
  let correct = 0, pos = 0, truePos = 0;
  for (let i = 0; i < n; i++) {
    const predicted = probs[i] >= 0.5 ? 1 : 0, actual = labels[i] > 0.5 ? 1 : 0;
    if (predicted === actual) correct++;
    if (actual) pos++;
    if (actual && predicted) truePos++;
  }
  const neg = n - pos;
  const trueNeg = correct - truePos;
  let auroc = NaN;
  if (pos > 0 && neg > 0) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[a] - probs[b]);
    let rankSumPos = 0;
    for (let i = 0; i < n;) {
      let j = i;
      while (j + 1 < n && probs[order[j + 1]] === probs[order[i]]) j++;
      const avgRank = (i + j) / 2 + 1;
      for (let t = i; t <= j; t++) if (labels[order[t]] > 0.5) rankSumPos += avgRank;
      i = j + 1;
    }
    auroc = (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
  }
  return {
    accuracy: n ? correct / n : NaN,
    chance: n ? Math.max(pos, neg) / n : NaN,
    balancedAccuracy: pos > 0 && neg > 0 ? (truePos / pos + trueNeg / neg) / 2 : NaN,
    auroc, positives: pos, count: n,
  };
}
