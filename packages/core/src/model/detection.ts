// The DILEMMA detection head ("is this token's position wrong?"), its loss and metrics.
import * as tf from "@tensorflow/tfjs-core";
import type { DetectionMetrics, NamedTensors } from "../api.js";
import { getNamed, setNamed } from "./vit.js";

/**
 * Linear probe D -> 1 on every patch token: "weight" [1, D] and "bias" [1], both U(-1/sqrt(D), 1/sqrt(D)):
 * PyTorch's default `nn.Linear(D, 1)` init, as the reference model's head. (The ViT's linear init,
 * truncated normal std 0.02, made the head ~3x smaller: under AdamW the encoder's fixed-size steps
 * then move the logits ~3x less, and detection AUROC on micro32 MNIST rose much more slowly:
 * docs/learning-curve-parity.md.)
 */
export class DetectionHead {
  readonly params: Map<string, tf.Variable>;

  constructor(readonly embedDim: number, opts: { seed?: number } = {}) {
    const bound = 1 / Math.sqrt(embedDim);
    const seed = (opts.seed ?? 0) * 7919 + 104729;
    const w = tf.randomUniform([1, embedDim], -bound, bound, "float32", seed);
    const b = tf.randomUniform([1], -bound, bound, "float32", seed + 1);
    // tf.variable copies its initial value: release the initialisers so the head owns 2 tensors.
    this.params = new Map([
      ["weight", tf.variable(w)],
      ["bias", tf.variable(b)],
    ]);
    w.dispose();
    b.dispose();
  }

  /** Misplacement logits [B, K] for patch outputs [B, K, D]. */
  logits(patches: tf.Tensor3D): tf.Tensor2D {
    const [B, K, D] = patches.shape;
    if (D !== this.embedDim) throw new Error(`DetectionHead: patches must have width ${this.embedDim}, got [${patches.shape}]`);
    return tf.tidy(() => {
      const y = tf.add(tf.matMul(tf.reshape(patches, [B * K, D]), this.params.get("weight")!, false, true), this.params.get("bias")!);
      return tf.reshape(y, [B, K]);
    });
  }

  /** The variables keyed `prefix + "weight" / "bias"` (e.g. prefix "dilemma_head."). */
  getWeights(prefix = ""): NamedTensors {
    return getNamed(this.params, prefix);
  }

  setWeights(weights: NamedTensors, prefix = ""): void {
    setNamed(this.params, weights, prefix, "DetectionHead");
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/**
 * Mean binary cross-entropy on logits, stable for any magnitude:
 * `max(x, 0) - x*y + log(1 + exp(-|x|))` (= PyTorch BCEWithLogitsLoss, mean reduction).
 */
export function bceWithLogits(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(logits.shape, labels.shape)) {
    throw new Error(`bceWithLogits: logits [${logits.shape}] and labels [${labels.shape}] must have the same shape`);
  }
  return tf.tidy(() => {
    const x = logits;
    const per = tf.add(tf.sub(tf.relu(x), tf.mul(x, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
    return tf.mean(per) as tf.Scalar;
  });
}

/**
 * Detection metrics of "misplaced" (label 1) predictions: threshold 0 on the logits for
 * accuracy / precision / recall (NaN when undefined); AUROC as the Mann-Whitney statistic
 * with ties counted as 1/2 (NaN when only one class is present).
 */
export function detectionMetrics(logits: ArrayLike<number>, labels: ArrayLike<number>): DetectionMetrics {
  const n = logits.length;
  if (labels.length !== n) throw new Error(`detectionMetrics: ${n} logits but ${labels.length} labels`);
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < n; i++) {
    const pred = logits[i] > 0;
    const pos = labels[i] > 0.5;
    if (pred && pos) tp++;
    else if (pred) fp++;
    else if (pos) fn++;
    else tn++;
  }
  const pos = tp + fn, neg = tn + fp;
  return {
    accuracy: n ? (tp + tn) / n : NaN,
    chance: n ? Math.max(pos, neg) / n : NaN,
    balancedAccuracy: pos && neg ? (tp / pos + tn / neg) / 2 : NaN,
    precision: tp + fp ? tp / (tp + fp) : NaN,
    recall: tp + fn ? tp / (tp + fn) : NaN,
    auroc: auroc(logits, labels),
  };
}

function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSumPos = 0;
  // Average ranks over runs of equal scores (1-based).
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (labels[order[t]] > 0.5) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
