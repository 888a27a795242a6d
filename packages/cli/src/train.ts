// The training loop: a run directory per docs/run-format.md, periodic checkpoints and kNN
// evaluation, exact resume, a clean stop on SIGINT and a clear stop on a non-finite loss.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { MethodConfig, MethodName, RngState, SSLMethod } from "@dilemma/core";
import { coreModel, data, selectEngine, type Batch, type Dataset, type EngineName, type Loader, type Precision, type Sample } from "./deps.js";
import { loadCheckpoint, resolveCheckpoint, saveCheckpoint, type CheckpointState } from "./checkpoint.js";
import { detectionEval, knnEval, labelled } from "./evaluate.js";
import { readSplit, type Normalize } from "./images.js";
import { Progress } from "./progress.js";
import {
  appendMetrics, readConfig, readMetrics, readStatus, truncateMetrics, writeConfig, writeSamples, writeStatus,
  type EvalLine, type RunConfig,
} from "./run-dir.js";

/** Options of {@link train}; every field has a default (`npx dilemma-cli train` uses them all). */
export interface TrainOptions {
  /** Dataset spec: "shapes" (built in), "mnist", "cifar10:<dir>", "cifar100:<dir>", "folder:<dir>". */
  data?: string;
  method?: MethodName;
  dilemmaProb?: number;
  tokenDrop?: number;
  dilemmaWeight?: number;
  /** A core ViT preset name, e.g. "micro32". */
  model?: string;
  imgSize?: number;
  patch?: number;
  /** Override the preset's width / depth / heads (small test models). */
  embedDim?: number;
  depth?: number;
  heads?: number;
  /** "learned" (the preset's default) or fixed 2-D "sincos" positional embeddings. */
  posEmbed?: "learned" | "sincos";
  headHidden?: number;
  headOut?: number;
  /** Augmentation strength; each defaults to the data set's, then the method's recipe. */
  cropScale?: [number, number];
  flip?: boolean;
  colorJitter?: boolean;
  batch?: number;
  /** Total steps; or give `epochs` (not both). */
  steps?: number;
  epochs?: number;
  lr?: number;
  wd?: number;
  warmup?: number;
  seed?: number;
  engine?: EngineName;
  /** Matrix-product precision of the cuda engine (fp32 | tf32 | bf16; default fp32). */
  precision?: Precision;
  /** Run directory (default runs/<generated name>). */
  out?: string;
  /** Continue this run directory from its latest checkpoint (other training options are taken from it). */
  resume?: string;
  quiet?: boolean;
  evalEvery?: number;
  ckptEvery?: number;
  keepCheckpoints?: number;
  /** Train / val images used by the periodic kNN evaluation. */
  knnBank?: number;
  knnQueries?: number;
  /** Data loader worker threads. */
  workers?: number;
  /** Stop after this step, as if interrupted (checkpoint + "stopped"); for tests and budgets. */
  stopAfter?: number;
  /** Where progress goes (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Install a SIGINT handler that checkpoints and stops (the cli does; library users opt in). */
  handleSigint?: boolean;
  /** Fault injection for tests: the input views of this step (0-based) become NaN. */
  injectNaNAtStep?: number;
}

/** What {@link train} returns. */
export interface RunSummary {
  runDir: string;
  state: "done" | "stopped";
  step: number;
  totalSteps: number;
  seconds: number;
  engine: string;
  losses: { step: number; loss: number }[];
  knnAcc?: number;
  detAcc?: number;
  detAuroc?: number;
}

/** A training failure that left the run directory consistent (status "failed"). */
export class TrainError extends Error {
  override name = "TrainError";
}

// The default run (docs/quality.md has the measurements behind each choice): `scenes`, whose
// layout says where a patch belongs; fixed sin-cos positions (MoCo v3's), which carry that
// geometry from the first step where learned ones start as noise; 8-px patches (a 4x4 grid)
// and half the tokens kept, so the detection head gets more context per image and a step is
// cheaper; the detection loss weighted 4 and a higher learning rate, for a 3-minute budget.
const DEFAULTS = {
  data: "scenes", method: "mocov3" as MethodName, dilemmaProb: 0.2, tokenDrop: 0.5, dilemmaWeight: 4,
  model: "micro32", batch: 32, steps: 400, lr: 1.5e-3, wd: 0.05, seed: 0, engine: "auto" as EngineName,
  keepCheckpoints: 3, knnBank: 500, knnQueries: 250,
};
/** What the default model (no --model) changes in its preset. */
const DEFAULT_MODEL_OVERRIDES = { patchSize: 8, posEmbed: "sincos" as const };

function runName(method: string, dataSpec: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const ds = dataSpec.split(":")[0];
  return `${t}-${method}-${ds}`;
}

function methodConfigOf(c: RunConfig): MethodConfig {
  const { preset: _p, ...vit } = c.model;
  const partial: Partial<MethodConfig> & { vit: MethodConfig["vit"] } = {
    method: c.method, vit, tokenDrop: c.dilemma.tokenDrop, dilemmaProb: c.dilemma.dilemmaProb,
    dilemmaWeight: c.dilemma.dilemmaWeight, seed: c.seed,
    optim: { lr: c.optim.lr, weightDecay: c.optim.weightDecay, warmupSteps: c.optim.warmupSteps, totalSteps: c.optim.steps },
  };
  if (c.heads.headHidden > 0) partial.headHidden = c.heads.headHidden;
  if (c.heads.headOut > 0) partial.headOut = c.heads.headOut;
  return coreModel.defaultMethodConfig(partial);
}

/** Builds the method of a run's config.json (weights freshly initialised). */
export function methodForRun(c: RunConfig): SSLMethod {
  return coreModel.createMethod(methodConfigOf(c));
}

function resolveVit(o: TrainOptions): RunConfig["model"] {
  const presets = coreModel.VIT_PRESETS;
  const name = o.model ?? DEFAULTS.model;
  const p = presets[name];
  if (!p) throw new TrainError(`--model ${name}: unknown preset; allowed: ${Object.keys(presets).join(", ")}`);
  const vit = { ...p, preset: name, ...(o.model === undefined ? DEFAULT_MODEL_OVERRIDES : {}) };
  if (o.imgSize !== undefined) vit.imgSize = o.imgSize;
  if (o.patch !== undefined) vit.patchSize = o.patch;
  if (o.embedDim !== undefined) vit.embedDim = o.embedDim;
  if (o.depth !== undefined) vit.depth = o.depth;
  if (o.heads !== undefined) vit.numHeads = o.heads;
  if (o.posEmbed !== undefined) vit.posEmbed = o.posEmbed;
  if (vit.imgSize % vit.patchSize !== 0) {
    throw new TrainError(`--img-size ${vit.imgSize} is not a multiple of --patch ${vit.patchSize}; pick sizes that divide`);
  }
  if (vit.embedDim % vit.numHeads !== 0) throw new TrainError(`embed dim ${vit.embedDim} is not divisible by ${vit.numHeads} heads`);
  return vit;
}

function viewsToTensors(b: Batch, batchSize: number, nanify: boolean): tf.Tensor4D[] {
  return b.views.map((v) => {
    const S = Math.round(Math.sqrt(v.length / (batchSize * 3)));
    if (batchSize * 3 * S * S !== v.length) throw new Error(`loader returned a view of ${v.length} floats, not [${batchSize}, 3, S, S]`);
    const arr = nanify ? new Float32Array(v.length).fill(NaN) : v;
    return tf.tensor4d(arr, [batchSize, 3, S, S]);
  });
}

/**
 * Trains (or resumes) a run. Resolves when the run is done or was stopped (SIGINT with
 * `handleSigint`, or `stopAfter`); rejects with {@link TrainError} on a non-finite loss, with
 * the run's last good checkpoint intact and status.json saying why.
 */
export async function train(o: TrainOptions = {}): Promise<RunSummary> {
  const t0 = Date.now();
  const stream = o.stream ?? process.stderr;
  const progress = new Progress(stream, o.quiet ?? false);
  const engine = await selectEngine(o.engine ?? DEFAULTS.engine, { precision: o.precision });
  const { openDataset, Loader: LoaderCtor, NORMALIZE, recipeAugment, checkAugment } = await data();

  let runDir: string;
  let config: RunConfig;
  let resumeFrom: { ckptDir: string; step: number } | undefined;
  if (o.resume) {
    // A run directory (its latest checkpoint) or one of its checkpoint directories.
    const target = path.resolve(o.resume);
    if (fs.existsSync(path.join(target, "config.json")) && !resolveCheckpointOrNull(target)) {
      // Killed before its first checkpoint: initialisation and data depend only on the seed,
      // so starting again from step 0 is an exact continuation.
      runDir = target;
      config = readConfig(runDir);
    } else {
      const r = resolveCheckpoint(o.resume);
      runDir = r.runDir;
      config = readConfig(runDir);
      resumeFrom = { ckptDir: r.ckptDir, step: r.step };
    }
  } else {
    const vit = resolveVit(o);
    const method = o.method ?? DEFAULTS.method;
    const spec = o.data ?? DEFAULTS.data;
    runDir = path.resolve(o.out ?? path.join("runs", runName(method, spec)));
    if (fs.existsSync(path.join(runDir, "config.json"))) {
      throw new TrainError(`${runDir} already holds a run; continue it with --resume ${runDir}, or pick another --out`);
    }
    if (o.steps !== undefined && o.epochs !== undefined) throw new TrainError("give --steps or --epochs, not both");
    config = {
      version: 1, name: path.basename(runDir), method, model: vit,
      dilemma: { tokenDrop: o.tokenDrop ?? DEFAULTS.tokenDrop, dilemmaProb: o.dilemmaProb ?? DEFAULTS.dilemmaProb, dilemmaWeight: o.dilemmaWeight ?? DEFAULTS.dilemmaWeight },
      data: { spec, numClasses: 0, classNames: [] },
      optim: { lr: o.lr ?? DEFAULTS.lr, weightDecay: o.wd ?? DEFAULTS.wd, warmupSteps: 0, batch: o.batch ?? DEFAULTS.batch, steps: 0 },
      seed: o.seed ?? DEFAULTS.seed, engine: engine.name, createdAt: new Date().toISOString(),
      heads: { headHidden: o.headHidden ?? 0, headOut: o.headOut ?? 0 },
      stepsPerEpoch: 0, evalEvery: 0, ckptEvery: 0, keepCheckpoints: o.keepCheckpoints ?? DEFAULTS.keepCheckpoints,
    };
  }
  const vit = config.model;
  const ds: Dataset = await openDataset(config.data.spec, { imageSize: vit.imgSize, seed: config.seed });
  const B = config.optim.batch;
  if (ds.size("train") < B) throw new TrainError(`${config.data.spec} has ${ds.size("train")} training images, fewer than --batch ${B}; lower --batch`);
  const startStep = resumeFrom?.step ?? 0;
  const recipe = config.method === "dino" ? "dino" : "mocov3";
  if (!o.resume) {
    // Flags, then the data set's defaults, then the recipe's own.
    const a = { ...recipeAugment(recipe), ...ds.augment };
    config.augment = { cropScale: o.cropScale ?? a.cropScale, flip: o.flip ?? a.flip, colorJitter: o.colorJitter ?? a.colorJitter };
    try {
      checkAugment(config.augment);
    } catch (e) {
      throw new TrainError(`--crop-scale: ${(e as Error).message}`);
    }
  }
  // Runs written before augmentation was configurable (no config.augment) used the recipe's.
  const loader: Loader = new LoaderCtor(ds, { split: "train", batchSize: B, imageSize: vit.imgSize, recipe, augment: config.augment, seed: config.seed, startStep, workers: o.workers, dropLast: true, shuffle: true });
  const cleanup: (() => void | Promise<void>)[] = [() => loader.close(), () => ds.close?.()];
  let method: SSLMethod | undefined;
  let sigint: (() => void) | undefined;
  try {
    if (!o.resume) {
      const spe = loader.stepsPerEpoch;
      const steps = o.epochs !== undefined ? Math.max(1, Math.round(o.epochs * spe)) : (o.steps ?? DEFAULTS.steps);
      config.optim.steps = steps;
      config.optim.warmupSteps = o.warmup ?? Math.min(50, Math.floor(steps / 10));
      config.stepsPerEpoch = spe;
      config.data = { spec: config.data.spec, numClasses: ds.numClasses, classNames: ds.classNames };
      config.evalEvery = o.evalEvery ?? Math.max(1, Math.ceil(steps / 2));
      config.ckptEvery = o.ckptEvery ?? Math.max(1, Math.min(50, steps));
      fs.mkdirSync(runDir, { recursive: true });
      method = methodForRun(config);
      const mc = method.config;
      config.heads = { headHidden: mc.headHidden, headOut: mc.headOut };
      writeConfig(runDir, config);
      await writeSamples(runDir, ds, 16);
      fs.writeFileSync(path.join(runDir, "metrics.jsonl"), "");
    } else {
      method = methodForRun(config);
      if (o.evalEvery !== undefined) config.evalEvery = o.evalEvery;
      if (o.ckptEvery !== undefined) config.ckptEvery = o.ckptEvery;
    }
    const total = config.optim.steps;
    const rng: RngState = { seed: config.seed, counter: 0 };
    let epoch = 0;
    if (resumeFrom) {
      const st = loadCheckpoint(resumeFrom.ckptDir, method, true);
      rng.counter = st.rng.counter;
      epoch = st.epoch;
      truncateMetrics(runDir, startStep);
      progress.log(`resuming ${runDir} at step ${startStep}/${total}`);
    } else if (o.resume) {
      truncateMetrics(runDir, 0);
      progress.log(`${runDir} has no checkpoint yet: starting it again from step 0`);
    }
    const norm: Normalize = NORMALIZE;
    const bank = labelled(await readSplit(ds, "train", o.knnBank ?? DEFAULTS.knnBank));
    const queries = labelled(await readSplit(ds, "val", o.knnQueries ?? DEFAULTS.knnQueries));
    const evaluateNow = (step: number): EvalLine => {
      const line: EvalLine = { kind: "eval", step, time: (Date.now() - t0) / 1000 };
      if (bank.length > 0 && queries.length > 0) line.knnAcc = knnEval(method!, bank, queries, ds, vit.imgSize, norm);
      if (config.dilemma.dilemmaProb > 0 && queries.length > 0) {
        const d = detectionEval(method!, queries, vit.imgSize, vit.patchSize, norm, { tokenDrop: config.dilemma.tokenDrop, dilemmaProb: config.dilemma.dilemmaProb, seed: config.seed });
        line.detAcc = d.accuracy;
        if (Number.isFinite(d.auroc)) line.detAuroc = d.auroc;
      }
      appendMetrics(runDir, line);
      return line;
    };
    const checkpoint = (step: number) => saveCheckpoint(runDir, method!, {
      step, epoch, rng: { ...rng }, dataCursor: { step }, extra: { method: config.method },
    } satisfies CheckpointState, config.keepCheckpoints);

    let stopRequested = false;
    if (o.handleSigint) {
      let count = 0;
      sigint = () => {
        count++;
        if (count > 1) process.exit(130); // a second Ctrl-C: leave now (the last checkpoint stays)
        stopRequested = true;
        progress.log("interrupt: finishing the current step and saving a checkpoint (Ctrl-C again to quit at once)");
      };
      process.on("SIGINT", sigint);
    }
    writeStatus(runDir, { state: "running", step: startStep, totalSteps: total, engine: engine.name });
    const losses: RunSummary["losses"] = [];
    let lastEval: EvalLine | undefined = [...readMetrics(runDir)].reverse().find((m): m is EvalLine => m.kind === "eval");
    let ema = 0;
    let lastSaved = startStep;
    let step = startStep;
    for (; step < total && !stopRequested; ) {
      // A macrotask turn per step: with an in-thread loader every await is a microtask, and
      // signal handlers (Ctrl-C) only run when the event loop gets a turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = await loader.next();
      if (batch.step !== step) throw new Error(`data loader returned the batch of step ${batch.step}, expected ${step}`);
      const ts = Date.now();
      const views = viewsToTensors(batch, B, o.injectNaNAtStep === step);
      let res;
      try {
        res = method.trainStep(views, step, rng);
      } finally {
        tf.dispose(views);
      }
      const dt = (Date.now() - ts) / 1000;
      if (![res.loss, res.sslLoss, res.dilemmaLoss].every(Number.isFinite)) {
        const msg = `loss became ${res.loss} at step ${step + 1} (ssl ${res.sslLoss}, detection ${res.dilemmaLoss}, lr ${res.lr.toExponential(2)}); ` +
          `training stopped. The last good checkpoint is step ${lastSaved}${lastSaved === 0 ? " (none saved yet)" : ""}. ` +
          `Lower --lr (now ${config.optim.lr}) or raise --warmup, then start a new run or --resume this one.`;
        writeStatus(runDir, { state: "failed", step: lastSaved, totalSteps: total, message: msg, engine: engine.name });
        throw new TrainError(msg);
      }
      step++;
      epoch = Math.floor(step / config.stepsPerEpoch);
      ema = ema === 0 ? dt : 0.9 * ema + 0.1 * dt;
      losses.push({ step, loss: res.loss });
      appendMetrics(runDir, {
        kind: "train", step, epoch, time: (Date.now() - t0) / 1000, lr: res.lr, loss: res.loss, sslLoss: res.sslLoss,
        dilemmaLoss: res.dilemmaLoss, ...(res.detection ? { detAcc: res.detection.accuracy, ...(Number.isFinite(res.detection.auroc) ? { detAuroc: res.detection.auroc } : {}) } : {}), imgPerSec: B / dt,
      });
      if (step % config.evalEvery === 0 && step < total) {
        lastEval = evaluateNow(step);
        writeStatus(runDir, { state: "running", step, totalSteps: total, engine: engine.name });
        progress.log(`step ${step}: kNN ${fmtPct(lastEval.knnAcc)}  detection acc ${fmtPct(lastEval.detAcc)}  AUROC ${lastEval.detAuroc?.toFixed(3) ?? "-"}`);
      }
      if (step % config.ckptEvery === 0 && step < total) {
        await checkpoint(step);
        lastSaved = step;
        writeStatus(runDir, { state: "running", step, totalSteps: total, engine: engine.name });
      }
      if (o.stopAfter !== undefined && step >= o.stopAfter) stopRequested = true;
      progress.update({ step, totalSteps: total, epoch, imgPerSec: B / ema, loss: res.loss, sslLoss: res.sslLoss, dilemmaLoss: res.dilemmaLoss, detAcc: res.detection?.accuracy, knnAcc: lastEval?.knnAcc }, ema * (total - step));
    }
    progress.done();
    const finished = step >= total;
    if (lastSaved !== step) await checkpoint(step);
    if (finished && (lastEval?.step !== step)) lastEval = evaluateNow(step);
    writeStatus(runDir, finished
      ? { state: "done", step, totalSteps: total, engine: engine.name }
      : { state: "stopped", step, totalSteps: total, engine: engine.name, message: `stopped at step ${step}; continue with dilemma-cli train --resume ${runDir}` });
    return {
      runDir, state: finished ? "done" : "stopped", step, totalSteps: total, seconds: (Date.now() - t0) / 1000, engine: engine.name, losses,
      knnAcc: lastEval?.knnAcc, detAcc: lastEval?.detAcc, detAuroc: lastEval?.detAuroc,
    };
  } catch (e) {
    // Any other failure after the run exists: say so in status.json (the checkpoints stay).
    if (!(e instanceof TrainError) && fs.existsSync(path.join(runDir, "config.json"))) {
      const st = readStatus(runDir);
      writeStatus(runDir, { state: "failed", step: st?.step ?? 0, totalSteps: config.optim.steps, engine: engine.name, message: (e as Error).message });
    }
    throw e;
  } finally {
    if (sigint) process.off("SIGINT", sigint);
    method?.dispose();
    for (const c of cleanup) await c();
  }
}

function resolveCheckpointOrNull(runDir: string): ReturnType<typeof resolveCheckpoint> | null {
  try {
    return resolveCheckpoint(runDir);
  } catch {
    return null;
  }
}

/** A fraction as a percentage with one decimal, or "-". */
export function fmtPct(x: number | undefined): string {
  return x === undefined ? "-" : `${(x * 100).toFixed(1)}%`;
}

export type { Sample };
