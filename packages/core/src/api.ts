/**
 * The public shapes of @dilemma/core, fixed up front so that the model, the SSL methods, the
 * cli, the native engine and the viewer can be built side by side. Implementations live in
 * `model/` (ViT, DILEMMA sampling and op, detection, weights) and `train/` (SSL methods,
 * losses, optimizer, schedules).
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { ViT } from "./model/vit.js";

/** ViT architecture (timm semantics; see ../test/fixtures/README.md). */
export interface ViTConfig {
  imgSize: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** "learned" (default, truncated-normal init) or fixed 2-D sin-cos. */
  posEmbed?: "learned" | "sincos";
}

/** Counter-based randomness: everything random in a step derives from (seed, counter). */
export interface RngState {
  seed: number;
  /** Next counter value; advanced by each sampling call. */
  counter: number;
}

/** One DILEMMA draw for a batch (docs/sampling.md). Row-major [batch, numKept]. */
export interface DilemmaSample {
  batch: number;
  numPatches: number;
  numKept: number;
  /** Kept patch indices, distinct within a row. */
  realPos: Int32Array;
  /** Positional-embedding index each kept token receives. */
  inputPos: Int32Array;
  /** 1 where the token got a wrong position, else 0. */
  labels: Float32Array;
}

export interface DetectionMetrics {
  /** Fraction of tokens classified right (threshold 0.5); compare it with `chance`. */
  accuracy: number;
  /**
   * Accuracy of always answering the majority class: 1 - p for a corruption rate p < 0.5
   * (0.8 at p = 0.2), what a head that detects nothing scores.
   */
  chance: number;
  /** Mean of the recalls of both classes: 0.5 for a head that detects nothing (NaN with one class). */
  balancedAccuracy: number;
  /** Precision / recall of the "misplaced" class (NaN when undefined). */
  precision: number;
  recall: number;
  auroc: number;
}

export type MethodName = "mocov3" | "simclr" | "dino";

export interface MethodConfig {
  method: MethodName;
  vit: ViTConfig;
  /** Fraction of patch tokens dropped from the query views (0 = dense). */
  tokenDrop: number;
  /** Probability a kept token gets a wrong positional embedding (0 = no DILEMMA). */
  dilemmaProb: number;
  /** Weight of the detection loss (lambda). */
  dilemmaWeight: number;
  /** Projector / head sizes. MoCo v3: hidden 4096 / out 256 in the paper; smaller for CPU. */
  headHidden: number;
  headOut: number;
  /** MoCo v3 / SimCLR temperature; DINO uses its own two below. */
  temperature: number;
  /** MoCo v3 momentum base (cosine schedule to 1 over totalSteps). */
  momentum: number;
  dino?: { studentTemp: number; teacherTemp: number; warmupTeacherTemp: number; warmupTeacherSteps: number; centerMomentum: number };
  optim: { lr: number; weightDecay: number; warmupSteps: number; totalSteps: number; minLr?: number; clipGrad?: number; betas?: [number, number]; eps?: number };
  seed: number;
}

export interface StepResult {
  loss: number;
  sslLoss: number;
  /** 0 when DILEMMA is off. */
  dilemmaLoss: number;
  lr: number;
  /** Detection metrics on this step's corrupted query tokens (undefined when DILEMMA is off). */
  detection?: DetectionMetrics;
}

/** Named tensors in the run format's naming (docs/run-format.md), e.g. "base_encoder.pos_embed". */
export type NamedTensors = Record<string, tf.Tensor>;

/** A self-supervised method with DILEMMA switchable; owns its parameters and optimizer. */
export interface SSLMethod {
  readonly config: MethodConfig;
  /** The encoder being trained (for eval, export, detection). */
  readonly encoder: ViT;
  /**
   * One optimisation step on two augmented views [B, C, H, W] (float32, normalised).
   * Uses and advances `rng`; disposes every intermediate tensor.
   */
  trainStep(views: tf.Tensor4D[], step: number, rng: RngState): StepResult;
  /** Frozen-encoder cls features [B, D] (eval mode; caller disposes). */
  features(images: tf.Tensor4D): tf.Tensor2D;
  /** Misplacement probabilities [B, K] of the detection head under a given corruption. */
  detect(images: tf.Tensor4D, sample: DilemmaSample): tf.Tensor2D;
  /** All weights (trainable and not, e.g. momentum encoder, DINO center, BN running stats). */
  getWeights(): NamedTensors;
  /** Assigns variables by run-format name; `partial` leaves the ones not given unchanged. */
  setWeights(weights: NamedTensors, opts?: { partial?: boolean }): void;
  /** Optimizer state for exact resume. */
  getOptimizerState(): { step: number; tensors: NamedTensors };
  setOptimizerState(state: { step: number; tensors: NamedTensors }): void;
  dispose(): void;
}
