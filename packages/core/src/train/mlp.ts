// MoCo v3 projector / predictor (`build_mlp`) with PyTorch state_dict names.
import * as tf from "@tensorflow/tfjs-core";
import { linear } from "../model/vit.js";
import { BatchNorm1d } from "./batchnorm.js";
import { variableFrom } from "./util.js";

/** PyTorch's default Linear init, U(-1/sqrt(in), 1/sqrt(in)), as a `[out, in]` variable. */
export function linearWeight(outDim: number, inDim: number, seed: number, trainable = true): tf.Variable {
  const bound = 1 / Math.sqrt(inDim);
  return variableFrom(tf.randomUniform([outDim, inDim], -bound, bound, "float32", seed), trainable);
}

/**
 * MoCo v3 `build_mlp(numLayers, inDim, hidden, outDim)`:
 * `[Linear(no bias) -> BatchNorm1d -> ReLU] * (n-1) -> Linear(no bias) -> BatchNorm1d(affine=False)`.
 * Parameter names are the `nn.Sequential` indices, e.g. for 3 layers `0.weight`, `1.weight`,
 * `1.bias`, `3.weight`, `4.weight`, `4.bias`, `6.weight` (the last BN has no parameters).
 */
export class MLP {
  private readonly layers: { index: number; weight: tf.Variable; bn: BatchNorm1d; bnIndex: number; relu: boolean }[] = [];

  constructor(numLayers: number, inDim: number, hiddenDim: number, outDim: number, opts: { seed?: number; trainable?: boolean } = {}) {
    if (numLayers < 1) throw new Error(`MLP: numLayers must be >= 1 (got ${numLayers})`);
    const seed = opts.seed ?? 0;
    let index = 0;
    for (let i = 0; i < numLayers; i++) {
      const last = i === numLayers - 1;
      const dIn = i === 0 ? inDim : hiddenDim;
      const dOut = last ? outDim : hiddenDim;
      const trainable = opts.trainable ?? true;
      const weight = linearWeight(dOut, dIn, seed + i, trainable);
      const bn = new BatchNorm1d(dOut, { affine: !last, trainable });
      this.layers.push({ index, weight, bn, bnIndex: index + 1, relu: !last });
      index += last ? 2 : 3;
    }
  }

  /** Trainable parameters by PyTorch name. */
  get params(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const l of this.layers) {
      m.set(`${l.index}.weight`, l.weight);
      for (const [n, v] of l.bn.params()) m.set(`${l.bnIndex}.${n}`, v);
    }
    return m;
  }

  /** BatchNorm running statistics by PyTorch name (e.g. `1.running_mean`). */
  get buffers(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const l of this.layers) for (const [n, v] of l.bn.buffers()) m.set(`${l.bnIndex}.${n}`, v);
    return m;
  }

  /** `training` selects batch statistics (and running-stat updates) vs running statistics. */
  apply(x: tf.Tensor2D, training = true): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      for (const l of this.layers) {
        h = l.bn.apply(linear(h, l.weight as tf.Tensor2D), training);
        if (l.relu) h = tf.relu(h);
      }
      return h;
    });
  }

  dispose(): void {
    for (const l of this.layers) {
      l.weight.dispose();
      l.bn.dispose();
    }
  }
}
