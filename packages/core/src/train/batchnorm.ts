// BatchNorm1d with PyTorch semantics (MoCo v3 projector / predictor).
import * as tf from "@tensorflow/tfjs-core";
import { batchNorm1d } from "./ops/batch_norm.js";
import { variableFrom } from "./util.js";

export interface BatchNormOptions {
  /** Learnable scale and shift (PyTorch `affine`); default true. */
  affine?: boolean;
  eps?: number;
  /** Running-statistics momentum (PyTorch convention: new = (1-m)*old + m*batch); default 0.1. */
  momentum?: number;
  /** Whether the affine parameters receive gradients; default true. */
  trainable?: boolean;
}

/**
 * `torch.nn.BatchNorm1d` on `[B, C]` inputs. Training mode normalises with the batch mean and
 * biased variance and updates the running statistics (running variance unbiased, as PyTorch);
 * eval mode uses the running statistics. Training runs the fused BatchNorm1d op (ops/batch_norm.ts).
 */
export class BatchNorm1d {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    if (opts.affine ?? true) {
      this.weight = variableFrom(tf.ones([numFeatures]), opts.trainable ?? true);
      this.bias = variableFrom(tf.zeros([numFeatures]), opts.trainable ?? true);
    }
    this.runningMean = variableFrom(tf.zeros([numFeatures]), false);
    this.runningVar = variableFrom(tf.ones([numFeatures]), false);
  }

  /** Trainable parameters by PyTorch name ("weight", "bias"); empty when not affine. */
  params(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    if (this.weight && this.bias) {
      m.set("weight", this.weight);
      m.set("bias", this.bias);
    }
    return m;
  }

  /** Non-trainable state by PyTorch state_dict name. */
  buffers(): Map<string, tf.Variable> {
    return new Map([["running_mean", this.runningMean], ["running_var", this.runningVar]]);
  }

  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      if (training) return batchNorm1d(x, this, { eps: this.eps, momentum: this.momentum });
      let y = tf.mul(tf.sub(x, this.runningMean), tf.rsqrt(tf.add(this.runningVar, this.eps)));
      if (this.weight && this.bias) y = tf.add(tf.mul(y, this.weight), this.bias);
      return y as tf.Tensor2D;
    });
  }

  dispose(): void {
    this.weight?.dispose();
    this.bias?.dispose();
    this.runningMean.dispose();
    this.runningVar.dispose();
  }
}
