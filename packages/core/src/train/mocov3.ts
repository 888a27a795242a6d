// MoCo v3 (ViT) + DILEMMA, as ../shared/bench/pytorch_bench.py bench_train, with the three
// bugs of the published code fixed: the plain path returns its loss, the sparse path passes the
// positions to the encoder, and the detection head sees exactly the corruption the encoder saw.
import * as tf from "@tensorflow/tfjs-core";
import type { MethodConfig } from "../api.js";
import { ViT } from "../model/index.js";
import { contrastiveLoss } from "./losses.js";
import { gradsWithAux, copyParams, emaUpdate, MethodBase, type LossTerms, type Module, type Params, type ViewPositions } from "./method.js";
import { MLP } from "./mlp.js";
import { momentumAt } from "./schedule.js";

/** Outputs of {@link MoCoV3.forwardLoss}. */
export interface MoCoOutputs extends LossTerms {
  q1: tf.Tensor2D; q2: tf.Tensor2D; k1: tf.Tensor2D; k2: tf.Tensor2D;
  /** ctr(q1, k2) + ctr(q2, k1). */
  conLoss: tf.Scalar;
  dilemmaLoss1?: tf.Scalar; dilemmaLoss2?: tf.Scalar;
}

/**
 * MoCo v3 with DILEMMA. Weights (run format): `base_encoder.<timm>` + projector
 * `base_encoder.head.<i>.*` (3-layer build_mlp), `momentum_encoder.*` (same layout, EMA of the
 * base, no gradients), `predictor.<i>.*` (2-layer build_mlp), `dilemma_head.*`, and the BN
 * running statistics as `<module>.<i>.running_mean` / `.running_var`.
 *
 * A step: momentum update (cosine schedule from `momentum` to 1) -> keys from the momentum
 * encoder on both dense, uncorrupted views (no gradient) -> queries from the base encoder on
 * both sparse, corrupted views -> predictor -> `ctr(q1,k2) + ctr(q2,k1) + lambda*(dil1+dil2)/2`.
 */
export class MoCoV3 extends MethodBase {
  readonly momentumEncoder: ViT;
  readonly projector: MLP;
  readonly momentumProjector: MLP;
  readonly predictor: MLP;

  constructor(config: MethodConfig) {
    super(config);
    const D = this.encoder.embedDim;
    const { headHidden: hidden, headOut: out, seed } = config;
    this.projector = new MLP(3, D, hidden, out, { seed: seed + 101 });
    this.predictor = new MLP(2, out, hidden, out, { seed: seed + 202 });
    this.momentumEncoder = new ViT(config.vit, { seed, trainable: false });
    this.momentumProjector = new MLP(3, D, hidden, out, { seed: seed + 101, trainable: false });
    // the momentum encoder starts as a copy of the base encoder (as MoCo v3)
    copyParams(this.emaPairs());
    this.initOptimizer();
  }

  protected modules(): [string, Module][] {
    return [
      ["base_encoder.head.", this.projector],
      ["momentum_encoder.", this.momentumEncoder],
      ["momentum_encoder.head.", this.momentumProjector],
      ["predictor.", this.predictor],
    ];
  }

  /** (momentum, base) module pairs: the momentum encoder and projector are EMAs of the base ones. */
  private emaPairs(): [Params, Params][] {
    return [[this.momentumEncoder, this.encoder], [this.momentumProjector, this.projector]];
  }

  protected override beforeStep(step: number): void {
    const m = momentumAt(step, this.config.momentum, this.config.optim.totalSteps);
    emaUpdate(this.emaPairs(), m);
  }

  /** Momentum encoder + projector on dense, uncorrupted views: k [B, dim] per view (no gradient). */
  keys(xs: tf.Tensor4D[]): tf.Tensor2D[] {
    return tf.tidy(() => {
      const cls = tf.split(this.momentumEncoder.forward(tf.concat(xs, 0)).cls, xs.map((x) => x.shape[0]), 0);
      return cls.map((c) => this.momentumProjector.apply(c as tf.Tensor2D, true));
    });
  }

  /** Query loss terms given precomputed keys (runs under the gradient tape). */
  private queryLoss(x1: tf.Tensor4D, x2: tf.Tensor4D, k1: tf.Tensor2D, k2: tf.Tensor2D, view1?: ViewPositions, view2?: ViewPositions): MoCoOutputs {
    const T = this.config.temperature;
    const q = this.queryViewsForward([x1, x2], [view1, view2]);
    // projector and predictor per view: their BatchNorm statistics are per view, as in MoCo v3
    const [q1, q2] = q.cls.map((c) => this.predictor.apply(this.projector.apply(c, true), true));
    const conLoss = tf.add(contrastiveLoss(q1, k2, T), contrastiveLoss(q2, k1, T)) as tf.Scalar;
    return { ...this.lossTerms(conLoss, q), q1, q2, k1, k2, conLoss, dilemmaLoss1: q.dilemmaLosses?.[0], dilemmaLoss2: q.dilemmaLosses?.[1] };
  }

  /**
   * The full forward for explicit views (for tests and advanced use): keys from the momentum
   * encoder on the dense views, queries from the base encoder on `view1` / `view2` (undefined =
   * dense, correct positions). No momentum update, no optimizer step; the BatchNorm running
   * statistics update as in any train-mode forward.
   */
  forwardLoss(x1: tf.Tensor4D, x2: tf.Tensor4D, view1?: ViewPositions, view2?: ViewPositions): MoCoOutputs {
    return tf.tidy(() => {
      const [k1, k2] = this.keys([x1, x2]);
      return this.queryLoss(x1, x2, k1, k2, view1, view2) as unknown as tf.TensorContainer;
    }) as unknown as MoCoOutputs;
  }

  /** {@link forwardLoss} plus the gradients of `loss` w.r.t. the trainable params (run-format names). */
  lossAndGrads(views: tf.Tensor4D[], positions: (ViewPositions | undefined)[]): { out: MoCoOutputs; grads: Map<string, tf.Tensor> } {
    const [x1, x2] = views;
    const [k1, k2] = this.keys([x1, x2]);
    // k1, k2 enter the tape as constants and come back (moved) in the outputs
    return gradsWithAux(() => this.queryLoss(x1, x2, k1, k2, positions[0], positions[1]), this.trainableParams());
  }
}
