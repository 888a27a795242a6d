// study.json: the study's spec, calibrations and the state of every run. It is rewritten
// atomically after each change, so a killed study restarts from what it says.
import * as fs from "node:fs";
import * as path from "node:path";
import { readJson, writeJsonAtomic } from "../atomic.js";
import { StudySpecError, type MatrixRun, type StudySpec } from "./spec.js";

/** What the study measured on one trained run (identical protocol for every run). */
export interface RunEval {
  step: number;
  /** Seconds spent in training steps (the budget clock). */
  trainTime: number;
  split: string;
  numTrain: number;
  numTest: number;
  knnAcc?: number;
  linearProbeAcc?: number;
  /** Detection under spec.eval.detection (runs with a detection head only). */
  detAcc?: number;
  detAuroc?: number;
  /** Probe accuracy with a fraction of the test patches dropped, keyed by fraction ("0.25"). */
  occlusion: Record<string, number>;
}

/** Timing of a configuration's steps, and the schedule it gives under the budget. */
export interface Calibration {
  /** Median over the timing rounds. */
  secondsPerStep: number;
  measuredSteps: number;
  /** Seconds per step of each round. */
  rounds?: number[];
  steps: number;
  warmup: number;
}

export type RunPhase = "pending" | "training" | "trained" | "evaluated" | "failed";

export interface RunRecord extends MatrixRun {
  /** Run directory, relative to the study directory. */
  dir: string;
  phase: RunPhase;
  /** Scheduled steps (from the calibration) and steps done. */
  steps?: number;
  stepsDone?: number;
  trainTime?: number;
  /** True when the budget, not the schedule, ended the run. */
  budgetSpent?: boolean;
  /** Number of times training was continued with --resume after an interruption. */
  resumed?: number;
  /** 1-minute load average when training started and ended (the machine's other work). */
  load?: [number, number];
  message?: string;
  result?: RunEval;
}

export interface StudyState {
  version: 1;
  spec: StudySpec;
  createdAt: string;
  updatedAt: string;
  /** Engine of the first run (every run uses the same --engine choice). */
  engine?: string;
  /** Things a reader of the results must know (e.g. a data set left out). */
  notes: string[];
  /** The command line of the latest invocation (shown in results.md). */
  command?: string;
  /** Where the study ran: CPU model and count, platform, Node version. */
  machine?: string;
  calibration: Record<string, Calibration>;
  runs: RunRecord[];
}

export const STATE_FILE = "study.json";

export function readState(dir: string): StudyState | null {
  const f = path.join(dir, STATE_FILE);
  return fs.existsSync(f) ? readJson<StudyState>(f) : null;
}

export function writeState(dir: string, s: StudyState): void {
  s.updatedAt = new Date().toISOString();
  writeJsonAtomic(path.join(dir, STATE_FILE), s);
}

/** Canonical JSON (sorted keys) for comparing specs. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

/**
 * The state to continue: a fresh one for a new study directory, or the saved one when its spec
 * is the same. A different spec in the same directory is an error (results would mix).
 */
export function openState(dir: string, spec: StudySpec, runs: MatrixRun[], notes: string[]): StudyState {
  const saved = readState(dir);
  if (saved) {
    if (canonical(saved.spec) !== canonical(spec)) {
      throw new StudySpecError(`${dir} holds a study with a different spec (${path.join(dir, STATE_FILE)}); ` +
        "continue it with the same spec and flags, or pass another --out");
    }
    return saved;
  }
  const now = new Date().toISOString();
  return {
    version: 1, spec, createdAt: now, updatedAt: now, notes, calibration: {},
    runs: runs.map((r) => ({ ...r, dir: path.join("runs", r.id), phase: "pending" as const })),
  };
}

/**
 * For `dilemma-cli view`: a study directory stands for its runs (runs/ entries with a
 * config.json, in name order); any other path is returned as given.
 */
export function expandStudyDirs(dirs: readonly string[]): string[] {
  return dirs.flatMap((d) => {
    if (fs.existsSync(path.join(d, "config.json")) || !fs.existsSync(path.join(d, STATE_FILE))) return [d];
    const root = path.join(d, "runs");
    if (!fs.existsSync(root)) return [];
    return fs.readdirSync(root).sort().map((n) => path.join(root, n)).filter((r) => fs.existsSync(path.join(r, "config.json")));
  });
}
