// The run directory (docs/run-format.md): config.json, status.json, metrics.jsonl, samples/.
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import type { MethodName, ViTConfig } from "@dilemma/core";
import { readJson, writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import type { Augment, Dataset } from "./deps.js";

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
  optim: { lr: number; weightDecay: number; warmupSteps: number; batch: number; steps: number };
  seed: number;
  engine: string;
  createdAt: string;
  heads: { headHidden: number; headOut: number };
  stepsPerEpoch: number;
  evalEvery: number;
  ckptEvery: number;
  keepCheckpoints: number;
}

export type RunState = "running" | "done" | "stopped" | "failed";
export interface RunStatus { state: RunState; step: number; totalSteps: number; updatedAt: string; message?: string; engine?: string }

export interface TrainLine {
  kind: "train"; step: number; epoch: number; time: number; lr: number; loss: number; sslLoss: number;
  dilemmaLoss: number; detAcc?: number; detAuroc?: number; imgPerSec: number;
}
export interface EvalLine { kind: "eval"; step: number; time: number; knnAcc?: number; detAcc?: number; detAuroc?: number }
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

/** Parsed metrics lines; a torn last line (crash mid-append) is skipped. */
export function readMetrics(runDir: string): MetricsLine[] {
  const file = path.join(runDir, "metrics.jsonl");
  if (!fs.existsSync(file)) return [];
  const out: MetricsLine[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsLine);
    } catch {
      // torn line from a killed process
    }
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

/** Writes up to `count` validation images as PNG plus samples/index.json (for the viewer). */
export async function writeSamples(runDir: string, ds: Dataset, count: number): Promise<number> {
  const dir = path.join(runDir, "samples");
  fs.mkdirSync(dir, { recursive: true });
  const n = Math.min(count, ds.size("val"));
  const index: { file: string; label: number; className: string | null }[] = [];
  for (let i = 0; i < n; i++) {
    const s = await ds.get("val", i);
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
