// DINO + DILEMMA: student (base encoder + DINO head) on sparse corrupted crops, EMA teacher on
// the dense uncorrupted global crops, centering and teacher-temperature warm-up.
import * as tf from "@tensorflow/tfjs-core";
import type { MethodConfig } from "../api.js";
import { ViT } from "../model/index.js";
import { DinoHead } from "./dino_head.js";
import { dinoCenterUpdate, dinoLoss } from "./losses.js";
import { copyParams, emaUpdate, gradsWithAux, MethodBase, type LossTerms, type Module, type Params, type ViewPositions } from "./method.js";
import { momentumAt, teacherTempAt } from "./schedule.js";
import { variableFrom } from "./util.js";

const GLOBAL_CROPS = 2;

/** Outputs of {@link DINO.lossAndGrads}. */
export interface DinoOutputs extends LossTerms {
  /** Student outputs [nCrops*B, out] (crop-major) and raw teacher outputs [2B, out]. */
  student: tf.Tensor2D;
  teacher: tf.Tensor2D;
}

/**
 * DINO with DILEMMA. Views: the first 2 are the global crops (teacher and student); further
 * views are extra (local) crops for the student only, at the same resolution (the ViT has a
 * fixed patch grid). Weights: student `base_encoder.<timm>` + `dino_head.*` (see
 * {@link DinoHead}), teacher `momentum_encoder.<timm>` + `momentum_dino_head.*` (EMA of the
 * student with the cosine momentum schedule, updated after each optimizer step),
 * `dino_center` [1, out], `dilemma_head.*`. The DINO head's bottleneck is min(256, headHidden).
 * Not included from the DINO recipe: freezing the last layer in the first epoch, and local crops
 * at a lower resolution.
 */
export class DINO extends MethodBase {
  readonly head: DinoHead;
  readonly momentumEncoder: ViT;
  readonly momentumHead: DinoHead;
  readonly center: tf.Variable;
  private readonly dino: NonNullable<MethodConfig["dino"]>;

  constructor(config: MethodConfig) {
    super(config);
    if (!config.dino) throw new Error("DINO: config.dino is required (see defaultMethodConfig)");
    this.dino = config.dino;
    const D = this.encoder.embedDim;
    const bottleneck = Math.min(256, config.headHidden);
    this.head = new DinoHead(D, config.headHidden, bottleneck, config.headOut, { seed: config.seed + 303 });
    this.momentumEncoder = new ViT(config.vit, { seed: config.seed, trainable: false });
    this.momentumHead = new DinoHead(D, config.headHidden, bottleneck, config.headOut, { seed: config.seed + 303, trainable: false });
    copyParams(this.emaPairs());
    this.center = variableFrom(tf.zeros([1, config.headOut]), false);
    this.initOptimizer();
  }

  protected modules(): [string, Module][] {
    return [
      ["dino_head.", this.head],
      ["momentum_encoder.", this.momentumEncoder],
      ["momentum_dino_head.", this.momentumHead],
      ["dino_center", this.center],
    ];
  }

  /** (teacher, student) module pairs: the teacher is an EMA of the student. */
  private emaPairs(): [Params, Params][] {
    return [[this.momentumEncoder, this.encoder], [this.momentumHead, this.head]];
  }

  protected override numQueryViews(views: tf.Tensor4D[]): number {
    if (views.length < GLOBAL_CROPS) throw new Error(`dino: trainStep needs at least ${GLOBAL_CROPS} views (global crops first), got ${views.length}`);
    return views.length;
  }

  protected override afterStep(step: number): void {
    const m = momentumAt(step, this.config.momentum, this.config.optim.totalSteps);
    emaUpdate(this.emaPairs(), m);
  }

  /** Raw teacher outputs [2B, out] on the dense, uncorrupted global crops (no gradient). */
  teacherOutputs(views: tf.Tensor4D[]): tf.Tensor2D {
    return tf.tidy(() => this.momentumHead.apply(this.momentumEncoder.forward(tf.concat(views.slice(0, GLOBAL_CROPS), 0)).cls));
  }

  /**
   * Loss terms and gradients for explicit crops and corruptions (undefined = dense); `step`
   * sets the teacher temperature. Also updates the center with this batch's teacher outputs
   * (after the loss used the previous center), as DINO does each step.
   */
  lossAndGrads(views: tf.Tensor4D[], positions: (ViewPositions | undefined)[], step = 0): { out: DinoOutputs; grads: Map<string, tf.Tensor> } {
    const n = views.length;
    if (positions.length !== n || positions.some((p) => !p !== !positions[0])) {
      throw new Error(`DINO.lossAndGrads: give positions for all ${n} views or for none`);
    }
    const teacher = this.teacherOutputs(views);
    const d = this.dino;
    const teacherTemp = teacherTempAt(step, d.warmupTeacherTemp, d.teacherTemp, d.warmupTeacherSteps);
    const r = gradsWithAux((): DinoOutputs => {
      const q = this.queryViewsForward(views, positions);
      const student = this.head.apply(tf.concat(q.cls, 0) as tf.Tensor2D);
      const sslLoss = dinoLoss(student, teacher, this.center, { nCrops: n, nGlobal: GLOBAL_CROPS, studentTemp: d.studentTemp, teacherTemp });
      return { ...this.lossTerms(sslLoss, q), student, teacher };
    }, this.trainableParams());
    tf.tidy(() => this.center.assign(dinoCenterUpdate(this.center, r.out.teacher, d.centerMomentum)));
    return r;
  }
}
