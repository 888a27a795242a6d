// What MoCo v3, SimCLR and DINO share: the encoder, the DILEMMA head and sampling, the
// optimizer, and the training step skeleton (schedule -> sample -> loss+grads -> AdamW -> one read).
import * as tf from "@tensorflow/tfjs-core";
import type { DilemmaSample, MethodConfig, NamedTensors, RngState, SSLMethod, StepResult } from "../api.js";
import { DetectionHead, ViT, assignNamed, bceWithLogits, detectionMetrics, numKept, sampleDilemma, sampleToTensors } from "../model/index.js";
import { AdamW } from "./adamw.js";
import { emaUpdateMulti } from "./ops/ema_update.js";
import { clipByGlobalNorm, cosineLr } from "./schedule.js";

/** A query view's DILEMMA corruption as tensors: realPos / inputPos int32 [B, K], labels float32 [B, K]. */
export interface ViewPositions {
  realPos: tf.Tensor2D;
  inputPos: tf.Tensor2D;
  labels: tf.Tensor2D;
}

/** Loss terms of one step (scalars) and the detection logits of each query view. */
export interface LossTerms {
  loss: tf.Scalar;
  sslLoss: tf.Scalar;
  /** Mean detection loss over the query views (absent when DILEMMA is off). */
  dilemmaLoss?: tf.Scalar;
  /** Detection logits [B, K] per query view (empty when DILEMMA is off). */
  dilemmaLogits: tf.Tensor2D[];
}

/** Base encoder on the query views: cls per view; detection logits and BCE per view when DILEMMA is on. */
export interface QueryOutputs {
  cls: tf.Tensor2D[];
  logits?: tf.Tensor2D[];
  dilemmaLosses?: tf.Scalar[];
}

/**
 * `tf.variableGrads` that also returns the auxiliary tensors in `f`'s result (kept through the
 * gradient's internal scope, then moved into the caller's scope: the originals are disposed).
 * Gradients come back keyed by our parameter names; parameters the loss does not reach get none.
 */
export function gradsWithAux<A extends { loss: tf.Scalar }>(
  f: () => A, params: Map<string, tf.Variable>,
): { out: A; grads: Map<string, tf.Tensor> } {
  let aux: A | undefined;
  const { value, grads } = tf.variableGrads(() => {
    aux = f();
    for (const t of auxTensors(aux)) if (t !== aux.loss) tf.keep(t);
    return aux.loss;
  }, [...params.values()]);
  const moved = new Map<tf.Tensor, tf.Tensor>([[aux!.loss, value]]);
  const move = (t: tf.Tensor) => {
    let c = moved.get(t);
    if (!c) { c = tf.clone(t); moved.set(t, c); t.dispose(); }
    return c;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(aux!)) {
    const x = v as unknown;
    out[k] = x instanceof tf.Tensor ? move(x) : Array.isArray(x) ? x.map((t) => (t instanceof tf.Tensor ? move(t) : t)) : x;
  }
  const named = new Map<string, tf.Tensor>();
  for (const [n, v] of params) if (grads[v.name]) named.set(n, grads[v.name]);
  return { out: out as A, grads: named };
}

function auxTensors(a: object): tf.Tensor[] {
  return Object.values(a).flatMap((v) => (v instanceof tf.Tensor ? [v] : Array.isArray(v) ? v.filter((t) => t instanceof tf.Tensor) : []));
}

/** Anything with named parameters (ViT, MLP, heads). */
export type Params = { params: Map<string, tf.Variable> };
/** A row of a method's module table: parameters and (BatchNorm) buffers, or a single variable. */
export type Module = (Params & { buffers?: Map<string, tf.Variable> }) | tf.Variable;

/** EMA of parameters, `target = m * target + (1 - m) * source`, for each (target, source) module pair. */
export function emaUpdate(pairs: [target: Params, source: Params][], m: number): void {
  const targets: tf.Variable[] = [];
  const tensorPairs: [tf.Tensor, tf.Tensor][] = [];
  for (const [target, source] of pairs) {
    for (const [n, t] of target.params) {
      const s = source.params.get(n);
      if (!s) throw new Error(`emaUpdate: no source parameter "${n}"`);
      targets.push(t);
      tensorPairs.push([t, s]);
    }
  }
  // one fused op for every parameter (EmaUpdate's multi-tensor form)
  tf.tidy(() => emaUpdateMulti(tensorPairs, m).forEach((out, k) => targets[k].assign(out)));
}

/** Copies the parameters of each source module into its target (same names and shapes). */
export function copyParams(pairs: [target: Params, source: Params][]): void {
  for (const [target, source] of pairs) for (const [n, t] of target.params) t.assign(source.params.get(n)!);
}

/** Validates a method configuration with clear messages. */
export function validateConfig(c: MethodConfig): void {
  const bad = (msg: string) => { throw new Error(`MethodConfig: ${msg}`); };
  if (!(c.tokenDrop >= 0 && c.tokenDrop < 1)) bad(`tokenDrop must be in [0, 1), got ${c.tokenDrop}`);
  if (!(c.dilemmaProb >= 0 && c.dilemmaProb <= 1)) bad(`dilemmaProb must be in [0, 1], got ${c.dilemmaProb}`);
  if (!(c.dilemmaWeight >= 0)) bad(`dilemmaWeight must be >= 0, got ${c.dilemmaWeight}`);
  if (!(c.temperature > 0)) bad(`temperature must be > 0, got ${c.temperature}`);
  if (!(c.momentum >= 0 && c.momentum <= 1)) bad(`momentum must be in [0, 1], got ${c.momentum}`);
  for (const k of ["headHidden", "headOut"] as const) if (!Number.isInteger(c[k]) || c[k] < 1) bad(`${k} must be a positive integer, got ${c[k]}`);
  if (!(c.optim.totalSteps >= 1)) bad(`optim.totalSteps must be >= 1, got ${c.optim.totalSteps}`);
  const L = (c.vit.imgSize / c.vit.patchSize) ** 2;
  numKept(L, c.tokenDrop); // throws when no token would be kept
}

/**
 * Shared base of the SSL methods. Subclasses declare their modules ({@link modules}), implement
 * {@link lossAndGrads} on (views, per-view corruption), and may hook the EMA updates.
 */
export abstract class MethodBase implements SSLMethod {
  readonly config: MethodConfig;
  /** The encoder being trained (`base_encoder.*`). */
  readonly encoder: ViT;
  /** The DILEMMA detection head (`dilemma_head.*`); present when dilemmaProb > 0. */
  readonly dilemmaHead?: DetectionHead;
  protected optimizer!: AdamW;

  constructor(config: MethodConfig) {
    validateConfig(config);
    this.config = config;
    this.encoder = new ViT(config.vit, { seed: config.seed });
    if (config.dilemmaProb > 0) this.dilemmaHead = new DetectionHead(this.encoder.embedDim, { seed: config.seed });
  }

  /** Call at the end of a subclass constructor, once every module exists. */
  protected initOptimizer(): void {
    const o = this.config.optim;
    this.optimizer = new AdamW(this.trainableParams(), { lr: o.lr, weightDecay: o.weightDecay, betas: o.betas, eps: o.eps });
  }

  /**
   * The method's own modules by run-format prefix, in state_dict order, between the base encoder
   * (first) and the DILEMMA head (last). Weight names, the optimizer's parameters, get/setWeights
   * and dispose all follow from this table.
   */
  protected abstract modules(): [string, Module][];

  /** Every variable (trainable or not: EMA copies, BN running stats, ...) under its run-format name. */
  allVariables(): Map<string, tf.Variable> {
    const table: [string, Module][] = [["base_encoder.", this.encoder], ...this.modules()];
    if (this.dilemmaHead) table.push(["dilemma_head.", this.dilemmaHead]);
    const all = new Map<string, tf.Variable>();
    for (const [prefix, m] of table) {
      if (!("params" in m)) all.set(prefix, m);
      else for (const [n, v] of [...m.params, ...(m.buffers ?? [])]) all.set(prefix + n, v);
    }
    return all;
  }

  /**
   * The variables built trainable (not the EMA copies, BN buffers or a sin-cos pos_embed), as
   * PyTorch's requires_grad: the modules' own flags, so the table needs no second one.
   */
  trainableParams(): Map<string, tf.Variable> {
    return new Map([...this.allVariables()].filter(([, v]) => v.trainable));
  }

  /** Loss terms and gradients of the trainable params for explicit views and corruptions. */
  abstract lossAndGrads(views: tf.Tensor4D[], positions: (ViewPositions | undefined)[], step: number): { out: LossTerms; grads: Map<string, tf.Tensor> };
  /** How many of the views get query (sampled, possibly corrupted) positions. */
  protected numQueryViews(views: tf.Tensor4D[]): number {
    if (views.length !== 2) throw new Error(`${this.config.method}: trainStep needs exactly 2 views, got ${views.length}`);
    return 2;
  }
  /** Before the loss (MoCo v3: momentum update). */
  protected beforeStep(_step: number): void {}
  /** After the optimizer update (DINO: teacher EMA). */
  protected afterStep(_step: number): void {}

  /** Whether query views are sparse and/or corrupted (else: the plain dense path). */
  get usesSampling(): boolean {
    return this.config.tokenDrop > 0 || this.config.dilemmaProb > 0;
  }

  /** One DILEMMA draw for a query view (advances `rng`), or undefined on the plain dense path. */
  sampleView(batch: number, rng: RngState): DilemmaSample | undefined {
    if (!this.usesSampling) return undefined;
    const { tokenDrop, dilemmaProb } = this.config;
    return sampleDilemma({ batch, numPatches: this.encoder.numPatches, tokenDrop, dilemmaProb, rng });
  }

  /**
   * Base encoder on query views (each [B, C, H, W], with its corruption or undefined = dense):
   * cls [B, D] per view and, when DILEMMA is on, detection logits [B, K] and BCE loss per view.
   * Views of one kind run as one batch (the ViT has no cross-sample coupling, so this equals
   * per-view forwards with fewer, larger kernels).
   */
  protected queryViewsForward(xs: tf.Tensor4D[], views: (ViewPositions | undefined)[]): QueryOutputs {
    const n = xs.length;
    const allDense = views.every((v) => !v);
    const allSparse = views.every((v) => v && v.realPos.shape[1] === views[0]!.realPos.shape[1]);
    if (n > 1 && (allDense || allSparse)) {
      const view = allSparse ? {
        realPos: tf.concat(views.map((v) => v!.realPos), 0) as tf.Tensor2D,
        inputPos: tf.concat(views.map((v) => v!.inputPos), 0) as tf.Tensor2D,
      } : undefined;
      const { cls, patches } = this.encoder.forward(tf.concat(xs, 0), view);
      const sizes = xs.map((x) => x.shape[0]);
      const clsPerView = tf.split(cls, sizes, 0) as tf.Tensor2D[];
      if (!this.dilemmaHead || !allSparse) return { cls: clsPerView };
      const logits = tf.split(this.dilemmaHead.logits(patches), sizes, 0) as tf.Tensor2D[];
      return { cls: clsPerView, logits, dilemmaLosses: logits.map((l, i) => bceWithLogits(l, views[i]!.labels)) };
    }
    const parts = xs.map((x, i) => {
      const { cls, patches } = this.encoder.forward(x, views[i]);
      const logits = this.dilemmaHead && views[i] ? this.dilemmaHead.logits(patches) : undefined;
      return { cls, logits, loss: logits ? bceWithLogits(logits, views[i]!.labels) : undefined };
    });
    const cls = parts.map((p) => p.cls);
    if (parts.some((p) => !p.logits)) return { cls };
    return { cls, logits: parts.map((p) => p.logits!), dilemmaLosses: parts.map((p) => p.loss!) };
  }

  /**
   * The step's loss from the method's SSL loss and the query views' detection losses:
   * `ssl + lambda * mean(dilemma)` (all views have B*K tokens, so the mean over views is the
   * token mean), or `ssl` alone when DILEMMA is off.
   */
  protected lossTerms(sslLoss: tf.Scalar, q: QueryOutputs): LossTerms {
    if (!q.dilemmaLosses) return { loss: sslLoss, sslLoss, dilemmaLogits: [] };
    const dilemmaLoss = tf.div(tf.addN(q.dilemmaLosses), q.dilemmaLosses.length) as tf.Scalar;
    return { loss: tf.add(sslLoss, tf.mul(dilemmaLoss, this.config.dilemmaWeight)), sslLoss, dilemmaLoss, dilemmaLogits: q.logits! };
  }

  trainStep(views: tf.Tensor4D[], step: number, rng: RngState): StepResult {
    const nq = this.numQueryViews(views);
    for (const v of views) {
      if (v.rank !== 4 || !tf.util.arraysEqual(v.shape, views[0].shape)) {
        throw new Error(`${this.config.method}: views must share one NCHW shape, got [${v.shape}] and [${views[0].shape}]`);
      }
    }
    const o = this.config.optim;
    const lr = cosineLr(step, o);
    this.beforeStep(step);
    const samples = views.slice(0, nq).map((v) => this.sampleView(v.shape[0], rng));
    const packed = tf.tidy(() => {
      const positions = samples.map((s) => (s ? sampleToTensors(s) : undefined));
      const { out, grads } = this.lossAndGrads(views, positions, step);
      const clipped = o.clipGrad ? clipByGlobalNorm(grads, o.clipGrad) : grads;
      this.optimizer.apply(clipped, lr);
      this.afterStep(step);
      const scalars = tf.stack([out.loss, out.sslLoss, out.dilemmaLoss ?? tf.scalar(0)]);
      return tf.concat([scalars, ...out.dilemmaLogits.map((l) => tf.reshape(l, [-1]))]);
    });
    const values = packed.dataSync(); // the step's one host read
    packed.dispose();
    const result: StepResult = { loss: values[0], sslLoss: values[1], dilemmaLoss: values[2], lr };
    if (this.dilemmaHead) {
      const labels = new Float32Array(values.length - 3);
      let off = 0;
      for (const s of samples) { labels.set(s!.labels, off); off += s!.labels.length; }
      result.detection = detectionMetrics(values.subarray(3), labels);
    }
    return result;
  }

  /** Base-encoder cls features [B, D] on the dense, uncorrupted images (caller disposes). */
  features(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.encoder.forward(images).cls);
  }

  /** Misplacement probabilities [B, K] of the detection head under `sample`'s corruption. */
  detect(images: tf.Tensor4D, sample: DilemmaSample): tf.Tensor2D {
    const head = this.dilemmaHead;
    if (!head) throw new Error(`${this.config.method}: detect() needs a detection head (dilemmaProb > 0)`);
    return tf.tidy(() => {
      const { realPos, inputPos } = sampleToTensors(sample);
      return tf.sigmoid(head.logits(this.encoder.forward(images, { realPos, inputPos }).patches));
    });
  }

  /** Every variable under its run-format name: the live variables (read or copy; do not dispose). */
  getWeights(): NamedTensors {
    return Object.fromEntries(this.allVariables());
  }

  /**
   * Assigns variables by run-format name. Unknown names and shape mismatches are errors;
   * missing names are errors unless `opts.partial` (e.g. fixtures without BN running stats).
   */
  setWeights(weights: NamedTensors, opts: { partial?: boolean } = {}): void {
    assignNamed(`${this.config.method}.setWeights`, this.allVariables(), weights, opts);
  }

  /** AdamW state (`exp_avg/<param>`, `exp_avg_sq/<param>`: live variables, do not dispose) and step. */
  getOptimizerState(): { step: number; tensors: NamedTensors } {
    return this.optimizer.getState();
  }

  setOptimizerState(state: { step: number; tensors: NamedTensors }): void {
    this.optimizer.setState(state);
  }

  dispose(): void {
    for (const v of this.allVariables().values()) v.dispose();
    this.optimizer.dispose();
  }
}
