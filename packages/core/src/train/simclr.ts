// SimCLR (NT-Xent) + DILEMMA: one encoder + projector on both (sparse, corrupted) views.
import * as tf from "@tensorflow/tfjs-core";
import type { MethodConfig } from "../api.js";
import { ntXentLoss } from "./losses.js";
import { gradsWithAux, MethodBase, type LossTerms, type Module, type ViewPositions } from "./method.js";
import { MLP } from "./mlp.js";

/** Outputs of {@link SimCLR.forwardLoss}. */
export interface SimCLROutputs extends LossTerms {
  /** Projections [2B, headOut]: view 1 rows, then view 2 rows. */
  z: tf.Tensor2D;
}

/**
 * SimCLR with DILEMMA. Both views go through the base encoder together (a 2B batch, so the
 * projector's BatchNorm sees both views, as SimCLR's global BN) with their sampled corruption;
 * `loss = NT-Xent(z, T) + lambda * BCE(detection)` (the BCE mean over both views' tokens equals
 * `(dil1 + dil2) / 2`). Weights: `base_encoder.<timm>`, projector `base_encoder.head.<i>.*`
 * (MoCo v3's 3-layer build_mlp), `dilemma_head.*`, BN running stats.
 */
export class SimCLR extends MethodBase {
  readonly projector: MLP;

  constructor(config: MethodConfig) {
    super(config);
    this.projector = new MLP(3, this.encoder.embedDim, config.headHidden, config.headOut, { seed: config.seed + 101 });
    this.initOptimizer();
  }

  protected modules(): [string, Module][] {
    return [["base_encoder.head.", this.projector]];
  }

  /** Loss terms for explicit views (both given or both undefined = dense); for tests and advanced use. */
  forwardLoss(x1: tf.Tensor4D, x2: tf.Tensor4D, view1?: ViewPositions, view2?: ViewPositions): SimCLROutputs {
    if (!view1 !== !view2) throw new Error("SimCLR.forwardLoss: give both views' positions or neither");
    const q = this.queryViewsForward([x1, x2], [view1, view2]);
    const z = this.projector.apply(tf.concat(q.cls, 0) as tf.Tensor2D, true);
    return { ...this.lossTerms(ntXentLoss(z, this.config.temperature), q), z };
  }

  lossAndGrads(views: tf.Tensor4D[], positions: (ViewPositions | undefined)[]): { out: SimCLROutputs; grads: Map<string, tf.Tensor> } {
    return gradsWithAux(() => this.forwardLoss(views[0], views[1], positions[0], positions[1]), this.trainableParams());
  }
}
