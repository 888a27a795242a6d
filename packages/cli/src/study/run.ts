// Runs a study: calibrates each configuration's step time, trains every run of the matrix one
// at a time under the same wall-clock budget, evaluates each the same way, and writes the
// results. Every step is recorded in study.json first, so a killed study resumes: finished runs
// are skipped and a partial one continues with train's --resume.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NORMALIZE, openDataset, readEvalSample } from "../data/index.js";
import { labelled } from "../evaluate.js";
import { occlusionEval } from "../occlusion.js";
import { evaluate } from "../run-eval.js";
import type { TrainLine } from "../run-dir.js";
import { openRun, Run } from "../run.js";
import { train, TrainError, type RunSummary, type TrainOptions } from "../train.js";
import { writeReport } from "./report.js";
import { budgetSteps, expandMatrix, trainOptionsFor, type MatrixRun, type StudySpec } from "./spec.js";
import { openState, writeState, type Calibration, type RunEval, type RunRecord, type StudyState } from "./state.js";

/** The work a study delegates (real training and evaluation by default; fakes in tests). */
export interface StudyDeps {
  train(o: TrainOptions): Promise<RunSummary>;
  /** Step time of a configuration: trains a few steps in `dir` and measures them. */
  calibrate(spec: StudySpec, run: MatrixRun, dir: string, o: RunnerOptions): Promise<{ secondsPerStep: number; measuredSteps: number }>;
  evaluateRun(runDir: string, spec: StudySpec, o: RunnerOptions): Promise<RunEval>;
  /** Writes results.json, results.md and the charts. */
  report(dir: string, state: StudyState): Promise<string[]>;
}

export interface RunnerOptions {
  /** Study directory. */
  out: string;
  engine?: TrainOptions["engine"];
  precision?: TrainOptions["precision"];
  /** No training progress lines (the study's own log lines still go to `log`). */
  quiet?: boolean;
  /** Stop (cleanly, resumable) after this many runs were trained in this invocation. */
  maxRuns?: number;
  notes?: string[];
  /** The command line, recorded for results.md. */
  command?: string;
  /** Ctrl-C stops the current run cleanly (checkpoint) and the study with it. */
  handleSigint?: boolean;
  log?: (line: string) => void;
}

/**
 * Steps timed by the default calibration after `CALIBRATION_WARM` untimed ones. A fresh run's
 * first steps are slower (prefetch filling, first calls on each shape); with 3 untimed steps the
 * dilemma arms' schedules filled 66-83% of a 100 s budget and the plain arms' 94-96%.
 */
export const CALIBRATION_STEPS = 20;
export const CALIBRATION_WARM = 10;
/** Alternating timing rounds over the arms of a data set x method; each arm takes the median. */
export const CALIBRATION_ROUNDS = 3;
/**
 * Untimed rounds over all arms before those: the process's first runs are slower (JIT, allocator
 * and BLAS warm-up; measured: round 1 took 1.3x the median for both arms), which would shorten
 * every schedule and leave part of the budget unused.
 */
export const CALIBRATION_WARMUP_ROUNDS = 1;

/** Mean seconds of the steps after the first `warm` from train lines' cumulative trainTime. */
export function stepSeconds(lines: Pick<TrainLine, "step" | "trainTime">[], warm: number): { secondsPerStep: number; measuredSteps: number } {
  const t = lines.filter((l) => typeof l.trainTime === "number").sort((a, b) => a.step - b.step);
  const first = t.find((l) => l.step === warm), last = t.at(-1);
  if (!first || !last || last.step <= first.step) throw new Error(`calibration: need train lines past step ${warm} with trainTime, got ${t.length}`);
  return { secondsPerStep: (last.trainTime! - first.trainTime!) / (last.step - first.step), measuredSteps: last.step - first.step };
}

async function defaultCalibrate(spec: StudySpec, run: MatrixRun, dir: string, o: RunnerOptions): Promise<{ secondsPerStep: number; measuredSteps: number }> {
  // Always measured afresh (a half-done calibration from a killed study is discarded).
  fs.rmSync(dir, { recursive: true, force: true });
  const steps = CALIBRATION_WARM + CALIBRATION_STEPS;
  await train({
    ...trainOptionsFor(spec, run), engine: o.engine, precision: o.precision, out: dir, steps, warmup: 1, quiet: true,
    knnBank: 0, knnQueries: 0, evalEvery: steps + 1, ckptEvery: steps + 1, keepCheckpoints: 1,
  });
  return stepSeconds(new Run(dir).metrics().filter((m): m is TrainLine => m.kind === "train"), CALIBRATION_WARM);
}

/** The study's evaluation of one run: kNN, probe, detection AUROC (train's eval) and occlusion. */
export async function evaluateStudyRun(runDir: string, spec: StudySpec, _o: RunnerOptions): Promise<RunEval> {
  const e = spec.eval;
  const r = await evaluate({
    target: runDir, trainImages: e.trainImages, testImages: e.testImages, probeIterations: e.probeIterations, k: e.k,
    tokenDrop: e.detection.tokenDrop, dilemmaProb: e.detection.dilemmaProb, seed: e.seed,
  });
  const run = openRun(runDir);
  const ds = await openDataset(run.config.data.spec, { imageSize: run.config.model.imgSize, seed: run.config.seed });
  let occlusion: Record<string, number> = {};
  try {
    // The same seeded class-balanced samples as evaluate() scores (eval-sample.ts).
    const bank = labelled(await readEvalSample(ds, "train", e.trainImages, e.seed));
    const tests = labelled(await readEvalSample(ds, r.split, e.testImages, e.seed));
    if (bank.length && tests.length && ds.numClasses > 1) {
      occlusion = occlusionEval(run.method, bank, tests, ds.numClasses, run.config.model.imgSize, NORMALIZE, { fractions: e.occlusion, seed: e.seed, probeIterations: e.probeIterations });
    }
  } finally {
    run.method.dispose();
    await ds.close?.();
  }
  const last = [...new Run(runDir).metrics()].reverse().find((m) => typeof m.trainTime === "number");
  return {
    step: r.step, trainTime: last?.trainTime ?? 0, split: r.split, numTrain: r.numTrain, numTest: r.numTest,
    knnAcc: r.knnAcc, linearProbeAcc: r.linearProbeAcc, detAcc: r.detection?.accuracy,
    ...(r.detection && Number.isFinite(r.detection.auroc) ? { detAuroc: r.detection.auroc } : {}), occlusion,
  };
}

export const DEFAULT_DEPS: StudyDeps = { train, calibrate: defaultCalibrate, evaluateRun: evaluateStudyRun, report: writeReport };

export interface StudyOutcome {
  state: StudyState;
  complete: boolean;
  /** True when Ctrl-C stopped a run (and the study with it). */
  interrupted: boolean;
  trainedNow: number;
  files: string[];
}

/** Runs (or continues) the study in `o.out`; resolves when every run is evaluated or `maxRuns` is reached. */
export async function runStudy(spec: StudySpec, o: RunnerOptions, deps: StudyDeps = DEFAULT_DEPS): Promise<StudyOutcome> {
  const dir = path.resolve(o.out);
  const log = o.log ?? (() => {});
  fs.mkdirSync(dir, { recursive: true });
  const state = openState(dir, spec, expandMatrix(spec), o.notes ?? []);
  if (o.command) state.command = o.command;
  state.machine ??= machineDescription();
  writeState(dir, state);
  const total = state.runs.length;
  let trainedNow = 0;
  for (const [i, rec] of state.runs.entries()) {
    if (rec.phase === "evaluated" || rec.phase === "failed") continue;
    if (o.maxRuns !== undefined && trainedNow >= o.maxRuns && rec.phase !== "trained") {
      log(`stopping after ${trainedNow} run(s) as asked; continue with the same command`);
      return { state, complete: false, interrupted: false, trainedNow, files: await deps.report(dir, state) };
    }
    const tag = `[${i + 1}/${total}] ${rec.id}`;
    const runDir = path.join(dir, rec.dir);
    try {
      if (rec.phase !== "trained") {
        const cal = await calibration(spec, rec, dir, o, deps, state, log);
        rec.steps = cal.steps;
        const status = Run.exists(runDir) ? new Run(runDir).status() : null;
        let summary: RunSummary | undefined;
        const loadBefore = os.loadavg()[0];
        if (status?.state === "done") {
          log(`${tag}: already trained`);
        } else if (status || Run.exists(runDir)) {
          // Killed mid-run: train continues it from its latest checkpoint (or from step 0).
          rec.resumed = (rec.resumed ?? 0) + 1;
          rec.phase = "training";
          writeState(dir, state);
          log(`${tag}: resuming the interrupted run`);
          summary = await deps.train({ resume: runDir, engine: o.engine, precision: o.precision, quiet: o.quiet, handleSigint: o.handleSigint });
        } else {
          rec.phase = "training";
          writeState(dir, state);
          log(`${tag}: training ${cal.steps} scheduled steps (${spec.budget} s at the calibrated pace${spec.stop === "budget" ? ", a hard stop" : ""})`);
          summary = await deps.train({
            ...trainOptionsFor(spec, rec), engine: o.engine, precision: o.precision, quiet: o.quiet, handleSigint: o.handleSigint, out: runDir,
            steps: cal.steps, warmup: cal.warmup, timeBudget: spec.stop === "budget" ? spec.budget : undefined,
            evalEvery: Math.max(1, Math.ceil(cal.steps / spec.evalPoints)), ckptEvery: Math.max(1, Math.ceil(cal.steps / 10)), keepCheckpoints: 1,
          });
        }
        if (summary) {
          if (summary.state !== "done") {
            // Stopped by Ctrl-C: the run stays resumable; so does the study.
            writeState(dir, state);
            log(`${tag}: stopped at step ${summary.step}; continue the study with the same command`);
            return { state, complete: false, interrupted: true, trainedNow, files: await deps.report(dir, state) };
          }
          state.engine ??= summary.engine;
          rec.load = [round2(loadBefore), round2(os.loadavg()[0])];
          trainedNow++;
        }
        const st = new Run(runDir).status();
        rec.stepsDone = st?.step;
        rec.budgetSpent = summary ? summary.budgetSpent : (st?.step ?? 0) < (st?.totalSteps ?? 0);
        rec.phase = "trained";
        writeState(dir, state);
      }
      log(`${tag}: evaluating`);
      rec.result = await deps.evaluateRun(runDir, spec, o);
      rec.trainTime = rec.result.trainTime;
      rec.stepsDone = rec.result.step;
      rec.phase = "evaluated";
      writeState(dir, state);
      const r = rec.result;
      log(`${tag}: ${r.step} steps in ${r.trainTime.toFixed(1)} s; probe ${pct(r.linearProbeAcc)}, kNN ${pct(r.knnAcc)}` +
        `${r.detAuroc !== undefined ? `, AUROC ${r.detAuroc.toFixed(3)}` : ""}; occluded ${Object.entries(r.occlusion).map(([f, a]) => `${f}: ${pct(a)}`).join(", ")}`);
    } catch (e) {
      // A diverged run (non-finite loss) is a result of its configuration: recorded, not retried.
      if (!(e instanceof TrainError)) throw e;
      rec.phase = "failed";
      rec.message = e.message;
      writeState(dir, state);
      log(`${tag}: FAILED: ${e.message}`);
    }
  }
  const files = await deps.report(dir, state);
  writeState(dir, state);
  return { state, complete: true, interrupted: false, trainedNow, files };
}

/**
 * The schedule of a run's configuration. The first time a data set x method is reached, all
 * its arms are timed in alternating rounds (plain, dilemma, plain, ...), so a change of machine
 * load touches every arm alike; each arm's step time is the median of its rounds.
 */
async function calibration(spec: StudySpec, rec: RunRecord, dir: string, o: RunnerOptions, deps: StudyDeps, state: StudyState, log: (s: string) => void): Promise<Calibration> {
  const have = state.calibration[rec.configId];
  if (have) return have;
  const arms = state.runs.filter((r) => r.dataset === rec.dataset && r.method === rec.method && r.seed === rec.seed);
  log(`timing ${arms.map((a) => a.configId).join(", ")}: ${CALIBRATION_WARMUP_ROUNDS} untimed warm-up round, then ${CALIBRATION_ROUNDS} alternating rounds of ${CALIBRATION_STEPS} steps`);
  const times = new Map<string, { secondsPerStep: number; measuredSteps: number }[]>();
  for (let round = -CALIBRATION_WARMUP_ROUNDS; round < CALIBRATION_ROUNDS; round++) {
    for (const a of arms) {
      const m = await deps.calibrate(spec, a, path.join(dir, "calibration", a.configId), o);
      if (round >= 0) times.set(a.configId, [...(times.get(a.configId) ?? []), m]);
    }
  }
  for (const a of arms) {
    const ms = times.get(a.configId)!;
    const secondsPerStep = median(ms.map((m) => m.secondsPerStep));
    const cal: Calibration = {
      secondsPerStep, measuredSteps: ms.reduce((n, m) => n + m.measuredSteps, 0), rounds: ms.map((m) => m.secondsPerStep),
      ...budgetSteps(spec.budget, secondsPerStep, spec.warmupFraction),
    };
    state.calibration[a.configId] = cal;
    log(`  ${a.configId}: ${secondsPerStep.toFixed(3)} s/step (rounds ${cal.rounds!.map((x) => x.toFixed(3)).join(", ")}) -> ${cal.steps} steps (warm-up ${cal.warmup}) in ${spec.budget} s`);
  }
  writeState(dir, state);
  return state.calibration[rec.configId];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** "Intel(R) Xeon(R) ... x 2 cores, linux x64, Node v22.1.0". */
export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? "unknown CPU"} × ${os.availableParallelism?.() ?? cpus.length} cores, ${os.platform()} ${os.arch()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const pct = (x: number | undefined): string => (x === undefined ? "-" : `${(x * 100).toFixed(1)}%`);
