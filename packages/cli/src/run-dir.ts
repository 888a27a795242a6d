// What a run directory holds (docs/run-format.md): the shapes of config.json, status.json and
// metrics.jsonl. Run (run.ts) reads and writes them.
import type { MethodName, ViTConfig } from "@dilemma/core";
import { DEFAULT_EVAL } from "./defaults.js";
import type { Augment } from "./data/index.js";

/**
 * How a run is evaluated (train-time kNN and detection, `dilemma-cli eval`, the probe): images are
 * a seeded class-balanced sample of each split (data/eval-sample.ts) drawn with `seed`, which is
 * not the run's seed, so every run of a dataset is scored on the same images and corruptions.
 */
export interface EvalSettings {
  /** Training images in the kNN bank and the probe's training set. */
  bank: number;
  /** Held-out images scored (val during training; test, else val, in `eval`). */
  queries: number;
  /** Neighbours of the kNN classifier. */
  k: number;
  /** Seed of the eval samples and of the detection corruptions. */
  seed: number;
  /** Full-batch Adam iterations of the linear probe. */
  probeIterations: number;
}

/** A run's eval settings: its config.json's, completed with the defaults for older runs. */
export function evalSettingsOf(c: RunConfig): EvalSettings {
  return { ...DEFAULT_EVAL, ...(c.eval ?? {}) };
}

/** config.json of a run (docs/run-format.md; fields after `createdAt` are cli additions). */
export interface RunConfig {
  version: 1;
  name: string;
  method: MethodName;
  model: ViTConfig & { preset: string };
  dilemma: { tokenDrop: number; dilemmaProb: number; dilemmaWeight: number };
  data: { spec: string; numClasses: number; classNames: string[] };
  /** Training augmentation (absent in runs from before it was configurable: the recipe's). */
  augment?: Augment;
  optim: {
    lr: number; weightDecay: number; warmupSteps: number; batch: number; steps: number;
    /** Peak learning-rate changes made by `train --resume --lr` (from that step on). */
    lrChanges?: { step: number; from: number; to: number; time: string }[];
  };
  seed: number;
  engine: string;
  createdAt: string;
  heads: { headHidden: number; headOut: number };
  stepsPerEpoch: number;
  evalEvery: number;
  ckptEvery: number;
  keepCheckpoints: number;
  /** Seconds of training steps after which the run ends (train --time-budget); absent = none. */
  timeBudget?: number;
  /** `train --init`: the weights file the encoder started from, and how many tensors it set. */
  init?: { file: string; tensors: number };
  /** Absent in runs written before it existed: {@link evalSettingsOf} fills in the defaults. */
  eval?: EvalSettings;
}

export type RunState = "running" | "done" | "stopped" | "failed";
export interface RunStatus { state: RunState; step: number; totalSteps: number; updatedAt: string; message?: string; engine?: string }

export interface TrainLine {
  kind: "train"; step: number; epoch: number; time: number; lr: number; loss: number; sslLoss: number;
  dilemmaLoss: number; detAcc?: number; detChance?: number; detBalAcc?: number; detAuroc?: number; imgPerSec: number;
  /** Seconds spent in training steps since the run began, resumes included (the budget clock). */
  trainTime?: number;
}
/** detChance: accuracy of always answering "in place" / the majority (1 - p); detBalAcc: balanced accuracy. */
export interface EvalLine { kind: "eval"; step: number; time: number; trainTime?: number; knnAcc?: number; detAcc?: number; detChance?: number; detBalAcc?: number; detAuroc?: number }
export type MetricsLine = TrainLine | EvalLine;
