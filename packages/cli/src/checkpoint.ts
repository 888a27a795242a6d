// Checkpoints: a directory per step, complete (every file fsynced, renamed into place as a whole)
// before checkpoints/latest.json points to it; the last N are kept. Runs use them through Run (run.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import type { RngState, SSLMethod } from "@dilemma/core";
import { fsyncDir, readJson, writeFileSynced, writeJsonAtomic } from "./atomic.js";
import { disposeAll, loadWeights, saveWeights } from "./weights.js";

/** state.json of a checkpoint: what --resume needs besides weights and optimizer state. */
export interface CheckpointState {
  /** Completed optimisation steps. */
  step: number;
  epoch: number;
  rng: RngState;
  /** The loader's position: the next batch is the one for this step. */
  dataCursor: { step: number };
  extra: Record<string, unknown>;
}

export interface Latest { step: number; dir: string }

/** A checkpoint found for loading: its run, its directory and its step. */
export interface CheckpointRef { runDir: string; ckptDir: string; step: number }

const STEP_DIR = /^step-(\d{6,})$/;

export function stepDirName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/** Saves weights, optimizer state and `state`; returns the checkpoint directory. */
export async function saveCheckpoint(runDir: string, method: SSLMethod, state: CheckpointState, keep: number): Promise<string> {
  const root = path.join(runDir, "checkpoints");
  fs.mkdirSync(root, { recursive: true });
  const name = stepDirName(state.step);
  const tmp = path.join(root, `.tmp-${name}-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    const opt = method.getOptimizerState();
    await saveWeights(tmp, "model", method.getWeights(), { step: state.step }, false);
    await saveWeights(tmp, "optimizer", opt.tensors, { step: opt.step }, false);
    // state.json last: its presence marks a complete checkpoint even without latest.json.
    writeFileSynced(path.join(tmp, "state.json"), JSON.stringify(state, null, 2) + "\n");
    fsyncDir(tmp);
  } catch (e) {
    // A failed write (disk full) leaves the earlier checkpoints as they were, and no half copy.
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const final = path.join(root, name);
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  fsyncDir(root);
  writeJsonAtomic(path.join(root, "latest.json"), { step: state.step, dir: name } satisfies Latest);
  prune(root, keep, name);
  return final;
}

function prune(root: string, keep: number, current: string): void {
  const dirs = listCheckpoints(root).filter((d) => d.dir !== current);
  const excess = dirs.length + 1 - Math.max(1, keep);
  for (let i = 0; i < excess; i++) fs.rmSync(path.join(root, dirs[i].dir), { recursive: true, force: true });
  for (const e of fs.readdirSync(root)) {
    // Leftovers of writes interrupted by a crash (other pids) are never referenced.
    if (e.startsWith(".tmp-") && !e.endsWith(`-${process.pid}`)) fs.rmSync(path.join(root, e), { recursive: true, force: true });
  }
}

/** Complete checkpoints (those with state.json), oldest first. */
export function listCheckpoints(root: string): Latest[] {
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root)
    .map((d) => ({ d, m: STEP_DIR.exec(d) }))
    .filter(({ d, m }) => m && fs.existsSync(path.join(root, d, "state.json")))
    .map(({ d, m }) => ({ step: Number(m![1]), dir: d }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Finds the checkpoint to load: `target` may be a run directory (its latest checkpoint) or a
 * checkpoint directory. Falls back to the newest complete checkpoint when latest.json is
 * missing or points to a directory that is gone.
 */
export function resolveCheckpoint(target: string): CheckpointRef {
  const abs = path.resolve(target);
  if (!fs.existsSync(abs)) throw new Error(`${target} does not exist; pass a run directory (runs/<name>) or a checkpoint directory`);
  if (fs.existsSync(path.join(abs, "state.json")) && fs.existsSync(path.join(abs, "model.json"))) {
    const runDir = path.dirname(path.dirname(abs));
    return { runDir, ckptDir: abs, step: readJson<CheckpointState>(path.join(abs, "state.json")).step };
  }
  const root = path.join(abs, "checkpoints");
  const latestFile = path.join(root, "latest.json");
  if (fs.existsSync(latestFile)) {
    try {
      const latest = readJson<Latest>(latestFile);
      const dir = path.join(root, latest.dir);
      if (STEP_DIR.test(latest.dir) && fs.existsSync(path.join(dir, "state.json"))) return { runDir: abs, ckptDir: dir, step: latest.step };
    } catch {
      // fall through to scanning
    }
  }
  const all = listCheckpoints(root);
  if (all.length === 0) {
    throw new Error(`${target} has no checkpoint (no ${path.join("checkpoints", "latest.json")}); is it a run directory written by dilemma-cli train?`);
  }
  const last = all[all.length - 1];
  return { runDir: abs, ckptDir: path.join(root, last.dir), step: last.step };
}

/** Loads weights (and, for resuming, optimizer state) into `method`; returns state.json. */
export function loadCheckpoint(ckptDir: string, method: SSLMethod, withOptimizer: boolean): CheckpointState {
  const state = readJson<CheckpointState>(path.join(ckptDir, "state.json"));
  const { tensors } = loadWeights(path.join(ckptDir, "model.json"));
  try {
    method.setWeights(tensors);
  } finally {
    disposeAll(tensors);
  }
  if (withOptimizer) {
    const { tensors: t, json } = loadWeights(path.join(ckptDir, "optimizer.json"));
    try {
      method.setOptimizerState({ step: Number(json.step ?? state.step), tensors: t });
    } finally {
      disposeAll(t);
    }
  }
  return state;
}
