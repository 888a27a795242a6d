// The run directory (docs/run-format.md): config.json, status.json, metrics.jsonl, samples/.
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import type { MethodName, ViTConfig } from "@dilemma/core";
import { readJson, writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import { evalIndices } from "./data/eval-sample.js";
import { DEFAULT_EVAL } from "./defaults.js";
import type { Augment, Dataset } from "./data/index.js";

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

export function readConfig(runDir: string): RunConfig {
  const file = path.join(runDir, "config.json");
  if (!fs.existsSync(file)) throw new Error(`${runDir} is not a run directory (no config.json); pass runs/<name> as written by dilemma-cli train`);
  return readJson<RunConfig>(file);
}

export function writeConfig(runDir: string, c: RunConfig): void {
  writeJsonAtomic(path.join(runDir, "config.json"), c);
}

export function writeStatus(runDir: string, s: Omit<RunStatus, "updatedAt">): void {
  writeJsonAtomic(path.join(runDir, "status.json"), { ...s, updatedAt: new Date().toISOString() });
}

export function readStatus(runDir: string): RunStatus | null {
  const file = path.join(runDir, "status.json");
  return fs.existsSync(file) ? readJson<RunStatus>(file) : null;
}

/** Whether a parsed line has the shape every reader relies on (an object with a step). */
function isMetricsLine(v: unknown): v is MetricsLine {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const m = v as { kind?: unknown; step?: unknown };
  return (m.kind === "train" || m.kind === "eval") && typeof m.step === "number" && Number.isFinite(m.step);
}

/** Parsed metrics lines; a torn last line (crash mid-append) and lines that are not records are skipped. */
export function readMetrics(runDir: string): MetricsLine[] {
  const file = path.join(runDir, "metrics.jsonl");
  if (!fs.existsSync(file)) return [];
  const out: MetricsLine[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue; // torn line from a killed process
    }
    // Valid JSON that is not a record (null, 3, [], {"step": "x"}) would break the readers.
    if (isMetricsLine(v)) out.push(v);
  }
  return out;
}

/** Appends one line with a single write (readers skip a torn last line). */
export function appendMetrics(runDir: string, line: MetricsLine): void {
  fs.appendFileSync(path.join(runDir, "metrics.jsonl"), JSON.stringify(line) + "\n");
}

/** On resume: keeps only lines up to the checkpoint's step, so no step is logged twice. */
export function truncateMetrics(runDir: string, step: number): void {
  const kept = readMetrics(runDir).filter((m) => m.step <= step);
  writeFileAtomic(path.join(runDir, "metrics.jsonl"), kept.map((m) => JSON.stringify(m) + "\n").join(""));
}

/**
 * Writes up to `count` validation images as PNG plus samples/index.json (for the viewer): the
 * seeded class-balanced sample evaluation uses, so a class-ordered split shows every class.
 */
export async function writeSamples(runDir: string, ds: Dataset, count: number, seed: number): Promise<number> {
  const dir = path.join(runDir, "samples");
  fs.mkdirSync(dir, { recursive: true });
  const indices = await evalIndices(ds, "val", count, seed);
  const n = indices.length;
  const index: { file: string; label: number; className: string | null }[] = [];
  for (let i = 0; i < n; i++) {
    const s = await ds.get("val", indices[i]);
    const file = `${String(i).padStart(3, "0")}.png`;
    const png = await sharp(Buffer.from(s.pixels.buffer, s.pixels.byteOffset, s.pixels.byteLength), {
      raw: { width: s.width, height: s.height, channels: 3 },
    }).png().toBuffer();
    writeFileAtomic(path.join(dir, file), png);
    index.push({ file, label: s.label, className: s.label >= 0 ? ds.classNames[s.label] ?? null : null });
  }
  writeJsonAtomic(path.join(dir, "index.json"), index);
  return n;
}
