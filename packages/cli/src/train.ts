// The training loop: a run directory per docs/run-format.md, periodic checkpoints and kNN
// evaluation, exact resume, a clean stop on SIGINT and a clear stop on a non-finite loss.
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { defaultMethodConfig, VIT_PRESETS, type MethodName, type RngState, type SSLMethod } from "@dilemma/core";
import { NORMALIZE, checkAugment, openDataset, readEvalSample, recipeAugment, Loader, type Augment, type Batch, type Dataset } from "./data/index.js";
import { selectEngine } from "./engine.js";
import { DEFAULT_ENGINE, DEFAULT_EVAL, DEFAULT_MODEL_OVERRIDES, TRAIN_DEFAULTS as D, defaultCkptEvery, defaultEvalEvery, defaultWarmup, type EngineName, type Precision } from "./defaults.js";
import { InputError, TrainError } from "./errors.js";
import { detectionEval, knnEval, labelled } from "./evaluate.js";
import { initFromSafetensors } from "./init.js";
import { Progress } from "./progress.js";
import { evalSettingsOf, type EvalLine, type RunConfig } from "./run-dir.js";
import { methodForRun, Run, type CheckpointRef, type CheckpointState } from "./run.js";

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
  /**
   * Continue this run directory from its latest checkpoint. Other training options are taken
   * from it, except `lr`: a new peak learning rate is used from the checkpoint on and recorded in
   * config.json (`optim.lrChanges`), e.g. after a non-finite loss.
   */
  resume?: string;
  /**
   * Start a new run from these encoder weights: a safetensors file with timm ViT names (our
   * `export`'s model.safetensors, or a timm / PyTorch state dict of the same architecture).
   */
  init?: string;
  quiet?: boolean;
  evalEvery?: number;
  ckptEvery?: number;
  keepCheckpoints?: number;
  /**
   * Evaluation (stored in config.json as `eval`; a resumed run and `dilemma-cli eval` reuse it):
   * train / val images of the kNN bank and queries (a seeded class-balanced sample of each split),
   * kNN neighbours, and the eval seed (sample and detection corruptions; not the run's seed).
   */
  knnBank?: number;
  knnQueries?: number;
  knnK?: number;
  evalSeed?: number;
  /** Data loader worker threads. */
  workers?: number;
  /** Stop after this step, as if interrupted (checkpoint + "stopped"); for tests and budgets. */
  stopAfter?: number;
  /**
   * Wall-clock budget in seconds of training steps (data wait + step; evaluation and checkpoints
   * excluded): the run ends "done" at the first step boundary after it is spent. `steps` still
   * sets the schedule length; whichever comes first ends the run.
   */
  timeBudget?: number;
  /** Where progress goes (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /**
   * Install SIGINT and SIGTERM handlers that finish the step, checkpoint and stop (the cli does;
   * library users opt in). A second signal quits at once, with status.json "stopped".
   */
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
  /** Chance level of detAcc (majority rate, 1 - p) and the balanced accuracy (0.5 = chance). */
  detChance?: number;
  detBalAcc?: number;
  detAuroc?: number;
  /** Seconds spent in training steps over the whole run (resumes included). */
  trainTime: number;
  /** True when the run ended because its time budget was spent (before totalSteps). */
  budgetSpent: boolean;
  /** The signal that stopped the run (with `handleSigint`). */
  signal?: "SIGINT" | "SIGTERM";
}

function runName(method: string, dataSpec: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const ds = dataSpec.split(":")[0];
  return `${t}-${method}-${ds}`;
}

function resolveVit(o: TrainOptions): RunConfig["model"] {
  const presets = VIT_PRESETS;
  const name = o.model ?? D.model;
  const p = Object.hasOwn(presets, name) ? presets[name] : undefined;
  if (!p) throw new InputError(`--model ${name}: unknown preset; allowed: ${Object.keys(presets).join(", ")}`);
  const vit = { ...p, preset: name, ...(o.model === undefined ? DEFAULT_MODEL_OVERRIDES : {}) };
  if (o.imgSize !== undefined) vit.imgSize = o.imgSize;
  if (o.patch !== undefined) vit.patchSize = o.patch;
  if (o.embedDim !== undefined) vit.embedDim = o.embedDim;
  if (o.depth !== undefined) vit.depth = o.depth;
  if (o.heads !== undefined) vit.numHeads = o.heads;
  if (o.posEmbed !== undefined) vit.posEmbed = o.posEmbed;
  if (vit.imgSize % vit.patchSize !== 0) {
    throw new InputError(`--img-size ${vit.imgSize} is not a multiple of --patch ${vit.patchSize}; pick sizes that divide`);
  }
  if (vit.embedDim % vit.numHeads !== 0) throw new InputError(`embed dim ${vit.embedDim} is not divisible by ${vit.numHeads} heads; pick --heads that divide --embed-dim`);
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

type NewRun = { vit: RunConfig["model"]; method: MethodName; spec: string };

/** A run being trained: what resolveRun opened, and the state the loop advances and checkpoints save. */
interface Session {
  o: TrainOptions; run: Run; config: RunConfig; engine: string; progress: Progress; t0: number;
  ds: Dataset; loader: Loader; method: SSLMethod;
  step: number; epoch: number; rng: RngState; lastSaved: number;
  /** Seconds spent in training steps, carried across resumes in the checkpoint (the budget clock). */
  trainTime: number;
}

/** Set by SIGINT / SIGTERM (or stopAfter): the loop ends after the current step. */
interface Stop { requested: boolean; signal?: "SIGINT" | "SIGTERM" }

/**
 * Trains (or resumes) a run. Resolves when the run is done or was stopped (SIGINT with
 * `handleSigint`, or `stopAfter`); rejects with {@link TrainError} on a non-finite loss, with
 * the run's last good checkpoint intact and status.json saying why.
 */
export async function train(o: TrainOptions = {}): Promise<RunSummary> {
  const t0 = Date.now();
  const progress = new Progress(o.stream ?? process.stderr, o.quiet ?? false);
  if (o.init !== undefined && o.resume) throw new InputError("--init starts a new run; --resume continues from the run's own checkpoint: give one of them");
  const engine = await selectEngine(o.engine ?? DEFAULT_ENGINE, { precision: o.precision, quiet: o.quiet });

  // Bad settings fail before anything is written.
  const newRun: NewRun | undefined = o.resume ? undefined : { vit: resolveVit(o), method: o.method ?? D.method, spec: o.data ?? D.data };
  if (o.steps !== undefined && o.epochs !== undefined) throw new InputError("give --steps or --epochs, not both");
  // One writer per run: a second train on the same --out or --resume fails here. --resume takes
  // a run directory (its latest checkpoint) or one of its checkpoint directories.
  const run = o.resume ? Run.open(o.resume).lock() : Run.create(o.out ?? path.join("runs", runName(newRun!.method, newRun!.spec)));
  try {
    const { config, from, ds, loader } = await resolveRun(o, run, engine.name, newRun, progress);
    const start = from?.step ?? 0;
    let s: Session | undefined;
    let method: SSLMethod | undefined;
    let removeHandlers: (() => void) | undefined;
    try {
      method = methodForRun(config);
      s = {
        o, run, config, engine: engine.name, progress, t0, ds, loader, method,
        step: start, epoch: 0, rng: { seed: config.seed, counter: 0 }, trainTime: 0, lastSaved: start,
      };
      await begin(s, from);
      const evaluate = await evaluator(s);
      const stop: Stop = { requested: false };
      if (o.handleSigint) removeHandlers = stopOnSignals(s, stop);
      const end = await loop(s, evaluate, stop);
      return await finish(s, evaluate, end, stop);
    } catch (e) {
      throw run.failed(e, { step: s?.lastSaved ?? start, totalSteps: config.optim.steps, engine: engine.name });
    } finally {
      removeHandlers?.();
      method?.dispose();
      await loader.close();
      await ds.close?.();
    }
  } finally {
    run.close();
  }
}

/**
 * The run's config (read, and amended by --lr, on resume; built whole for a new run), its data
 * set and its loader. Writes nothing but a --lr change.
 */
async function resolveRun(o: TrainOptions, run: Run, engine: string, newRun: NewRun | undefined, progress: Progress):
  Promise<{ config: RunConfig; from?: CheckpointRef; ds: Dataset; loader: Loader }> {
  // A run killed before its first checkpoint has none: initialisation and data depend only on
  // the seed, so starting it again from step 0 is an exact continuation.
  const from = o.resume ? run.checkpointOrNull() ?? undefined : undefined;
  const resumed = o.resume ? resumedConfig(o, run, from?.step ?? 0, progress) : undefined;
  const vit = resumed?.model ?? newRun!.vit;
  const method = resumed?.method ?? newRun!.method;
  const spec = resumed?.data.spec ?? newRun!.spec;
  const seed = resumed?.seed ?? o.seed ?? D.seed;
  const B = resumed?.optim.batch ?? o.batch ?? D.batch;
  const ds = await openDataset(spec, { imageSize: vit.imgSize, seed });
  try {
    if (ds.size("train") < B) throw new InputError(`${spec} has ${ds.size("train")} training images, fewer than --batch ${B}; lower --batch`);
    const recipe = method === "dino" ? "dino" : "mocov3";
    // Runs written before augmentation was configurable (no config.augment) used the recipe's.
    const augment = resumed ? resumed.augment : newAugment(o, recipe, ds);
    const loader = new Loader(ds, { split: "train", batchSize: B, imageSize: vit.imgSize, recipe, augment, seed, startStep: from?.step ?? 0, workers: o.workers, dropLast: true, shuffle: true });
    const config = resumed ?? newRunConfig(o, run.dir, engine, newRun!, ds, augment!, loader.stepsPerEpoch);
    return { config, from, ds, loader };
  } catch (e) {
    await ds.close?.();
    throw e;
  }
}

/** A resumed run's config.json, with a new peak --lr recorded and the run-time intervals applied. */
function resumedConfig(o: TrainOptions, run: Run, step: number, progress: Progress): RunConfig {
  const config = run.config();
  if (o.lr !== undefined && o.lr !== config.optim.lr) {
    // A new peak rate from the checkpoint on (the schedule's shape stays), kept in the run.
    config.optim.lrChanges = [...(config.optim.lrChanges ?? []), { step, from: config.optim.lr, to: o.lr, time: new Date().toISOString() }];
    config.optim.lr = o.lr;
    run.writeConfig(config);
    progress.log(`learning rate ${config.optim.lrChanges.at(-1)!.from} -> ${o.lr} from step ${step} (recorded in config.json)`);
  }
  // The run's eval settings hold for its whole life (runs written before they were stored get
  // the defaults of that time, which are DEFAULT_EVAL); a different one here would make the
  // curve incomparable with its own first half.
  const ev = evalSettingsOf(config);
  const asked: [string, number | undefined, number][] = [["--knn-bank", o.knnBank, ev.bank], ["--knn-queries", o.knnQueries, ev.queries], ["--knn-k", o.knnK, ev.k], ["--eval-seed", o.evalSeed, ev.seed]];
  for (const [flag, v, stored] of asked) {
    if (v !== undefined && v !== stored) throw new InputError(`${flag} ${v}: a resumed run keeps its eval settings (config.json has ${stored}); start a new run with --out to change them`);
  }
  config.eval = ev;
  // Run-time settings: this session only, not written.
  if (o.evalEvery !== undefined) config.evalEvery = o.evalEvery;
  if (o.ckptEvery !== undefined) config.ckptEvery = o.ckptEvery;
  return config;
}

/** A new run's augmentation: the flags, then the data set's defaults, then the recipe's own. */
function newAugment(o: TrainOptions, recipe: "mocov3" | "dino", ds: Dataset): Augment {
  const a = { ...recipeAugment(recipe), ...ds.augment };
  const augment = { cropScale: o.cropScale ?? a.cropScale, flip: o.flip ?? a.flip, colorJitter: o.colorJitter ?? a.colorJitter };
  try {
    checkAugment(augment);
  } catch (e) {
    throw new InputError(`--crop-scale: ${(e as Error).message}`);
  }
  return augment;
}

/** A new run's config.json; the schedule's length follows from --steps, or --epochs and the loader. */
function newRunConfig(o: TrainOptions, runDir: string, engine: string, { vit, method, spec }: NewRun, ds: Dataset, augment: Augment, stepsPerEpoch: number): RunConfig {
  const steps = o.epochs !== undefined ? Math.max(1, Math.round(o.epochs * stepsPerEpoch)) : (o.steps ?? D.steps);
  const core = defaultMethodConfig();
  return {
    version: 1, name: path.basename(runDir), method, model: vit,
    dilemma: { tokenDrop: o.tokenDrop ?? D.tokenDrop, dilemmaProb: o.dilemmaProb ?? D.dilemmaProb, dilemmaWeight: o.dilemmaWeight ?? D.dilemmaWeight },
    data: { spec, numClasses: ds.numClasses, classNames: ds.classNames },
    optim: { lr: o.lr ?? D.lr, weightDecay: o.wd ?? D.wd, warmupSteps: o.warmup ?? defaultWarmup(steps), batch: o.batch ?? D.batch, steps },
    seed: o.seed ?? D.seed, engine, createdAt: new Date().toISOString(),
    // Projector sizes: core's unless given (0 too, as methodConfigOf reads them).
    heads: { headHidden: o.headHidden || core.headHidden, headOut: o.headOut || core.headOut },
    stepsPerEpoch, evalEvery: o.evalEvery ?? defaultEvalEvery(steps), ckptEvery: o.ckptEvery ?? defaultCkptEvery(steps),
    keepCheckpoints: o.keepCheckpoints ?? D.keepCheckpoints,
    ...(o.timeBudget !== undefined ? { timeBudget: o.timeBudget } : {}),
    eval: {
      ...DEFAULT_EVAL, bank: o.knnBank ?? DEFAULT_EVAL.bank, queries: o.knnQueries ?? DEFAULT_EVAL.queries,
      k: o.knnK ?? DEFAULT_EVAL.k, seed: o.evalSeed ?? DEFAULT_EVAL.seed,
    },
    augment,
  };
}

/** A new run writes its files (after --init); a resumed one loads its checkpoint and drops the metrics past it. */
async function begin(s: Session, from: CheckpointRef | undefined): Promise<void> {
  const { o, run, config, progress } = s;
  if (!o.resume) {
    if (o.init !== undefined) {
      const init = initFromSafetensors(s.method, o.init);
      config.init = { file: path.resolve(o.init), tensors: init.tensors };
      progress.log(`init: ${init.message}`);
    }
    await run.start(config, s.ds);
  } else if (from) {
    const st = run.loadCheckpoint(from, s.method, true);
    s.rng.counter = st.rng.counter;
    s.epoch = st.epoch;
    s.trainTime = typeof st.extra.trainTime === "number" ? st.extra.trainTime : 0;
    run.truncateMetrics(from.step);
    progress.log(`resuming ${run.dir} at step ${from.step}/${config.optim.steps}`);
  } else {
    run.truncateMetrics(0);
    progress.log(`${run.dir} has no checkpoint yet: starting it again from step 0`);
  }
}

/** Train-time evaluation (kNN and detection on the run's eval samples), appended to metrics.jsonl. */
async function evaluator(s: Session): Promise<(step: number) => EvalLine> {
  const { config, ds, method } = s;
  const vit = config.model;
  const ev = config.eval!;
  const bank = labelled(await readEvalSample(ds, "train", ev.bank, ev.seed));
  const valSample = await readEvalSample(ds, "val", ev.queries, ev.seed);
  const queries = labelled(valSample);
  return (step) => {
    const line: EvalLine = { kind: "eval", step, time: (Date.now() - s.t0) / 1000, trainTime: s.trainTime };
    if (bank.length > 0 && queries.length > 0 && ds.numClasses > 1) line.knnAcc = knnEval(method, bank, queries, ds, vit.imgSize, NORMALIZE, ev.k);
    if (config.dilemma.dilemmaProb > 0 && valSample.length > 0) {
      const d = detectionEval(method, valSample, vit.imgSize, vit.patchSize, NORMALIZE, { tokenDrop: config.dilemma.tokenDrop, dilemmaProb: config.dilemma.dilemmaProb, seed: ev.seed });
      line.detAcc = d.accuracy;
      line.detChance = d.chance;
      if (Number.isFinite(d.balancedAccuracy)) line.detBalAcc = d.balancedAccuracy;
      if (Number.isFinite(d.auroc)) line.detAuroc = d.auroc;
    }
    s.run.appendMetrics(line);
    return line;
  };
}

function checkpoint(s: Session, step: number) {
  return s.run.saveCheckpoint(s.method, {
    step, epoch: s.epoch, rng: { ...s.rng }, dataCursor: { step }, extra: { method: s.config.method, trainTime: s.trainTime },
  } satisfies CheckpointState, s.config.keepCheckpoints);
}

/**
 * SIGINT (Ctrl-C) and SIGTERM (kill, timeout, Docker, schedulers): the first finishes the step
 * and stops; a second quits at once. Returns the function that removes the handlers.
 */
function stopOnSignals(s: Session, stop: Stop): () => void {
  const onSignal = (sig: "SIGINT" | "SIGTERM") => {
    if (stop.signal) {
      // A second signal: leave now, the last checkpoint stays; status.json must not say "running".
      try {
        s.run.setStatus({ state: "stopped", step: s.lastSaved, totalSteps: s.config.optim.steps, engine: s.engine,
          message: `quit by a second ${sig} without saving; continue from step ${s.lastSaved} with dilemma-cli train --resume ${s.run.dir}` });
      } catch {
        // leaving anyway; resume reads the checkpoints, not the status
      }
      s.run.close();
      process.exit(128 + os.constants.signals[sig]);
    }
    stop.requested = true;
    stop.signal = sig;
    s.progress.log(`${sig === "SIGINT" ? "interrupt" : sig}: finishing the current step and saving a checkpoint (${sig === "SIGINT" ? "Ctrl-C" : "signal"} again to quit at once)`);
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => [sig, () => onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

interface LoopEnd { losses: RunSummary["losses"]; lastEval?: EvalLine; budgetSpent: boolean }

/** Steps until the schedule ends, the time budget is spent or a stop is requested. */
async function loop(s: Session, evaluate: (step: number) => EvalLine, stop: Stop): Promise<LoopEnd> {
  const { o, run, config, engine, progress, method, loader } = s;
  const total = config.optim.steps;
  const B = config.optim.batch;
  run.setStatus({ state: "running", step: s.step, totalSteps: total, engine });
  const losses: RunSummary["losses"] = [];
  let lastEval: EvalLine | undefined = [...run.metrics()].reverse().find((m): m is EvalLine => m.kind === "eval");
  let ema = 0;
  const budget = config.timeBudget;
  let budgetSpent = budget !== undefined && s.trainTime >= budget;
  while (s.step < total && !stop.requested && !budgetSpent) {
    const tStep = Date.now();
    // A macrotask turn per step: with an in-thread loader every await is a microtask, and
    // signal handlers (Ctrl-C) only run when the event loop gets a turn.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = await loader.next();
    if (batch.step !== s.step) throw new Error(`data loader returned the batch of step ${batch.step}, expected ${s.step}`);
    const ts = Date.now();
    const views = viewsToTensors(batch, B, o.injectNaNAtStep === s.step);
    let res;
    try {
      res = method.trainStep(views, s.step, s.rng);
    } finally {
      tf.dispose(views);
    }
    const dt = (Date.now() - ts) / 1000;
    if (![res.loss, res.sslLoss, res.dilemmaLoss].every(Number.isFinite)) {
      const msg = `loss became ${res.loss} at step ${s.step + 1} (ssl ${res.sslLoss}, detection ${res.dilemmaLoss}, lr ${res.lr.toExponential(2)}); ` +
        `training stopped. The last good checkpoint is step ${s.lastSaved}${s.lastSaved === 0 ? " (none saved yet)" : ""}. ` +
        `Continue with a lower peak learning rate (now ${config.optim.lr}): dilemma-cli train --resume ${run.dir} --lr ${config.optim.lr / 2} ` +
        `(recorded in config.json), or start a new run with a lower --lr or a longer --warmup.`;
      run.setStatus({ state: "failed", step: s.lastSaved, totalSteps: total, message: msg, engine });
      throw new TrainError(msg);
    }
    const step = ++s.step;
    s.trainTime += (Date.now() - tStep) / 1000;
    if (budget !== undefined && s.trainTime >= budget) budgetSpent = true;
    s.epoch = Math.floor(step / config.stepsPerEpoch);
    ema = ema === 0 ? dt : 0.9 * ema + 0.1 * dt;
    losses.push({ step, loss: res.loss });
    run.appendMetrics({
      kind: "train", step, epoch: s.epoch, time: (Date.now() - s.t0) / 1000, lr: res.lr, loss: res.loss, sslLoss: res.sslLoss,
      dilemmaLoss: res.dilemmaLoss, trainTime: s.trainTime, ...(res.detection ? detectionFields(res.detection) : {}), imgPerSec: B / dt,
    });
    if (step % config.evalEvery === 0 && step < total && !budgetSpent) {
      lastEval = evaluate(step);
      run.setStatus({ state: "running", step, totalSteps: total, engine });
      progress.log(`step ${step}: kNN ${fmtPct(lastEval.knnAcc)}  ${fmtDetection(lastEval)}`);
    }
    if (step % config.ckptEvery === 0 && step < total && !budgetSpent) {
      await checkpoint(s, step);
      s.lastSaved = step;
      run.setStatus({ state: "running", step, totalSteps: total, engine });
    }
    if (o.stopAfter !== undefined && step >= o.stopAfter) stop.requested = true;
    progress.update({ step, totalSteps: total, epoch: s.epoch, imgPerSec: B / ema, loss: res.loss, sslLoss: res.sslLoss, dilemmaLoss: res.dilemmaLoss, detBalAcc: res.detection?.balancedAccuracy, knnAcc: lastEval?.knnAcc }, ema * (total - step));
  }
  progress.done();
  return { losses, lastEval, budgetSpent };
}

/** The last checkpoint and evaluation, status.json, and the summary. */
async function finish(s: Session, evaluate: (step: number) => EvalLine, end: LoopEnd, stop: Stop): Promise<RunSummary> {
  const { run, step, engine } = s;
  const total = s.config.optim.steps;
  const finished = step >= total || end.budgetSpent;
  if (s.lastSaved !== step) await checkpoint(s, step);
  const lastEval = finished && end.lastEval?.step !== step ? evaluate(step) : end.lastEval;
  const budgetSpent = end.budgetSpent && step < total;
  run.setStatus(finished
    ? { state: "done", step, totalSteps: total, engine, ...(budgetSpent ? { message: `time budget of ${s.config.timeBudget} s spent at step ${step} of ${total}` } : {}) }
    : { state: "stopped", step, totalSteps: total, engine, message: `stopped at step ${step}; continue with dilemma-cli train --resume ${run.dir}` });
  return {
    runDir: run.dir, state: finished ? "done" : "stopped", step, totalSteps: total, seconds: (Date.now() - s.t0) / 1000, engine, losses: end.losses,
    knnAcc: lastEval?.knnAcc, detAcc: lastEval?.detAcc, detChance: lastEval?.detChance, detBalAcc: lastEval?.detBalAcc, detAuroc: lastEval?.detAuroc,
    trainTime: s.trainTime, budgetSpent, ...(stop.signal && !finished ? { signal: stop.signal } : {}),
  };
}

/** A train line's detection fields from core's per-step metrics (non-finite ones left out). */
function detectionFields(d: { accuracy: number; chance: number; balancedAccuracy: number; auroc: number }): Partial<EvalLine> {
  const out: Partial<EvalLine> = { detAcc: d.accuracy, detChance: d.chance };
  if (Number.isFinite(d.balancedAccuracy)) out.detBalAcc = d.balancedAccuracy;
  if (Number.isFinite(d.auroc)) out.detAuroc = d.auroc;
  return out;
}

/**
 * Detection accuracy beside its chance level (what answering "in place" everywhere scores: 80%
 * at p = 0.2), the balanced accuracy (50% = nothing detected) and AUROC.
 */
export function fmtDetection(d: { detAcc?: number; detChance?: number; detBalAcc?: number; detAuroc?: number }): string {
  if (d.detAcc === undefined) return "detection -";
  return `detection acc ${fmtPct(d.detAcc)} (chance ${fmtPct(d.detChance)})  balanced ${fmtPct(d.detBalAcc)}  AUROC ${d.detAuroc?.toFixed(3) ?? "-"}`;
}

/** A fraction as a percentage with one decimal, or "-". */
export function fmtPct(x: number | undefined): string {
  return x === undefined ? "-" : `${(x * 100).toFixed(1)}%`;
}

export { TrainError };
