// A run directory (docs/run-format.md) as one object. Runs are created and opened here and every
// file of a run is read and written here, under the rules that keep it readable after a crash, a
// kill or a full disk: whole files replaced atomically, metrics appended a line per write,
// checkpoints published whole (checkpoint.ts), one writer at a time (run-lock.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { createMethod, defaultMethodConfig, type MethodConfig, type SSLMethod } from "@dilemma/core";
import { readJson, writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import { loadCheckpoint, resolveCheckpoint, saveCheckpoint, type CheckpointRef, type CheckpointState } from "./checkpoint.js";
import { evalIndices } from "./data/eval-sample.js";
import type { Dataset } from "./data/index.js";
import { InputError, TrainError } from "./errors.js";
import { lockRun } from "./run-lock.js";
import type { MetricsLine, RunConfig, RunStatus } from "./run-dir.js";

export type { CheckpointRef, CheckpointState };

/** A trained run ready for inference: the method of its config with a checkpoint's weights. */
export interface OpenedRun { runDir: string; ckptDir: string; step: number; config: RunConfig; method: SSLMethod }

export class Run {
  /** The run directory (absolute). */
  readonly dir: string;
  /** The lock's release while this process holds it. */
  private release?: () => void;
  /** Whether create() made the directory (close() removes it again while it is empty). */
  private made = false;

  /**
   * A handle on the run in `dir` that checks nothing, for readers of runs that may not exist
   * yet; create() and open() are the checked ways in. `target` is what open() was given.
   */
  constructor(dir: string, private readonly target: string = dir) {
    this.dir = path.resolve(dir);
  }

  /** Whether `dir` holds a run (its config.json). */
  static exists(dir: string): boolean {
    return fs.existsSync(path.join(dir, "config.json"));
  }

  /**
   * A new run in `dir` (made if missing), locked by this process. Refused while another train
   * holds it, and when it already holds a run: that one is continued with --resume instead.
   */
  static create(dir: string): Run {
    const run = new Run(dir);
    run.made = !fs.existsSync(run.dir);
    fs.mkdirSync(run.dir, { recursive: true });
    try {
      run.lock();
      if (Run.exists(run.dir)) throw new InputError(`${run.dir} already holds a run; continue it with --resume ${run.dir}, or pick another --out`);
    } catch (e) {
      run.close();
      throw e;
    }
    return run;
  }

  /** An existing run, from its directory or from one of its checkpoint directories. */
  static open(target: string): Run {
    const abs = path.resolve(target);
    return new Run(Run.exists(abs) ? abs : resolveCheckpoint(target).runDir, target);
  }

  /** Takes the run's lock (one writer per run); close() gives it back. */
  lock(): this {
    this.release = lockRun(this.dir);
    return this;
  }

  /** Gives the lock back, and removes the directory create() made if nothing was written to it. */
  close(): void {
    this.release?.();
    this.release = undefined;
    if (!this.made) return;
    try {
      fs.rmdirSync(this.dir); // only when still empty: a failure before config.json was written
    } catch {
      // not empty: the run exists
    }
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  config(): RunConfig {
    if (!Run.exists(this.dir)) throw new Error(`${this.dir} is not a run directory (no config.json); pass runs/<name> as written by dilemma-cli train`);
    return readJson<RunConfig>(this.file("config.json"));
  }

  writeConfig(c: RunConfig): void {
    writeJsonAtomic(this.file("config.json"), c);
  }

  /** A new run's files: config.json, the viewer's sample images and an empty metrics.jsonl. */
  async start(c: RunConfig, ds: Dataset): Promise<void> {
    this.writeConfig(c);
    await writeSamples(this.dir, ds, 16, c.eval!.seed);
    fs.writeFileSync(this.file("metrics.jsonl"), "");
  }

  /** status.json, or null before the run's first one. */
  status(): RunStatus | null {
    const file = this.file("status.json");
    return fs.existsSync(file) ? readJson<RunStatus>(file) : null;
  }

  setStatus(s: Omit<RunStatus, "updatedAt">): void {
    writeJsonAtomic(this.file("status.json"), { ...s, updatedAt: new Date().toISOString() });
  }

  /** Parsed metrics lines; a torn last line (crash mid-append) and lines that are not records are skipped. */
  metrics(): MetricsLine[] {
    const file = this.file("metrics.jsonl");
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
  appendMetrics(line: MetricsLine): void {
    fs.appendFileSync(this.file("metrics.jsonl"), JSON.stringify(line) + "\n");
  }

  /** On resume: keeps only lines up to the checkpoint's step, so no step is logged twice. */
  truncateMetrics(step: number): void {
    const kept = this.metrics().filter((m) => m.step <= step);
    writeFileAtomic(this.file("metrics.jsonl"), kept.map((m) => JSON.stringify(m) + "\n").join(""));
  }

  /** The checkpoint open() was given, else the newest complete one; says so when there is none. */
  checkpoint(): CheckpointRef {
    return resolveCheckpoint(this.target);
  }

  /** {@link checkpoint}, or null while the run has none. */
  checkpointOrNull(): CheckpointRef | null {
    try {
      return this.checkpoint();
    } catch {
      return null;
    }
  }

  /** Saves `method` and `state` as a checkpoint, keeping the newest `keep`; returns its directory. */
  saveCheckpoint(method: SSLMethod, state: CheckpointState, keep: number): Promise<string> {
    return saveCheckpoint(this.dir, method, state, keep);
  }

  /** Loads a checkpoint's weights (and, for resuming, optimizer state) into `method`; returns its state.json. */
  loadCheckpoint(ckpt: CheckpointRef, method: SSLMethod, withOptimizer: boolean): CheckpointState {
    return loadCheckpoint(ckpt.ckptDir, method, withOptimizer);
  }

  /** The method of config.json with the weights of {@link checkpoint}; the caller disposes it. */
  restore(ckpt: CheckpointRef = this.checkpoint()): OpenedRun {
    const config = this.config();
    const method = methodForRun(config);
    try {
      this.loadCheckpoint(ckpt, method, false);
    } catch (e) {
      method.dispose();
      throw e;
    }
    return { runDir: this.dir, ckptDir: ckpt.ckptDir, step: ckpt.step, config, method };
  }

  /**
   * What a failed train throws for `e`: a full disk said plainly, with the checkpoint to continue
   * from (`at.step`); status.json "failed" for any failure not already reported (a TrainError was).
   */
  failed(e: unknown, at: { step: number; totalSteps: number; engine: string }): Error {
    let err = e as Error;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      err = new TrainError(`no space left on the disk of ${this.dir} (${err.message}); training stopped. The last complete checkpoint is step ${at.step}` +
        `${at.step === 0 ? " (none saved yet)" : ""}. Free some space, then continue with: dilemma-cli train --resume ${this.dir}`);
    }
    if (!(e instanceof TrainError) && Run.exists(this.dir)) {
      try {
        this.setStatus({ state: "failed", ...at, message: err.message });
      } catch {
        // the disk may be full: the error thrown still says what happened
      }
    }
    return err;
  }
}

/** A trained run (its directory, or one of its checkpoint directories) ready for inference; the caller disposes the method. */
export function openRun(target: string): OpenedRun {
  return Run.open(target).restore();
}

/** Builds the method of a run's config.json (weights freshly initialised). */
export function methodForRun(c: RunConfig): SSLMethod {
  const { preset: _p, ...vit } = c.model;
  const partial: Partial<MethodConfig> & { vit: MethodConfig["vit"] } = {
    method: c.method, vit, tokenDrop: c.dilemma.tokenDrop, dilemmaProb: c.dilemma.dilemmaProb,
    dilemmaWeight: c.dilemma.dilemmaWeight, seed: c.seed,
    optim: { lr: c.optim.lr, weightDecay: c.optim.weightDecay, warmupSteps: c.optim.warmupSteps, totalSteps: c.optim.steps },
  };
  if (c.heads.headHidden > 0) partial.headHidden = c.heads.headHidden;
  if (c.heads.headOut > 0) partial.headOut = c.heads.headOut;
  return createMethod(defaultMethodConfig(partial));
}

/** Whether a parsed line has the shape every reader relies on (an object with a step). */
function isMetricsLine(v: unknown): v is MetricsLine {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const m = v as { kind?: unknown; step?: unknown };
  return (m.kind === "train" || m.kind === "eval") && typeof m.step === "number" && Number.isFinite(m.step);
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
