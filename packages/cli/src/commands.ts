// Flag definitions and zod schemas of every subcommand.
import { z } from "zod";
import { bool, num, oneOf, type CommandDef, type FlagDef } from "./args.js";
import { BENCH_PRESET_NAMES } from "./bench.js";
import { BENCH_DEFAULTS, DATA_INFO_IMG_SIZE, DEFAULT_EVAL, ENGINES, PRECISIONS, TRAIN_DEFAULTS as D, VIEW_DEFAULTS, engineFlag, precisionFlag } from "./defaults.js";
import { studyCommand } from "./study/command.js";

const METHODS = ["mocov3", "simclr", "dino"] as const;
const positionals = z.array(z.string());
const s = (desc: string, def?: string): FlagDef => ({ type: "string", desc, ...(def !== undefined ? { default: def } : {}) });
const b = (desc: string): FlagDef => ({ type: "boolean", desc });

const trainFlags = {
  data: s("dataset: scenes | shapes | mnist | cifar10:<dir> | cifar100:<dir> | folder:<dir>", D.data),
  method: s(`SSL method: ${METHODS.join(" | ")}`, D.method),
  "dilemma-prob": s("probability a kept token gets a wrong position (0 = no DILEMMA)", String(D.dilemmaProb)),
  "token-drop": s("fraction of patch tokens dropped from the query views, in [0, 1)", String(D.tokenDrop)),
  "dilemma-weight": s("weight of the detection loss (lambda)", String(D.dilemmaWeight)),
  model: s("ViT preset (core's VIT_PRESETS, e.g. micro32, tiny32, small32)", `${D.model} with --patch 8 --pos-embed sincos`),
  "img-size": s("image size (default: the preset's)"),
  patch: s("patch size (default: the preset's; 8 when --model is not given)"),
  "embed-dim": s("override the preset's width"),
  depth: s("override the preset's depth"),
  heads: s("override the preset's attention heads"),
  "pos-embed": s("positional embeddings: learned | sincos (fixed 2-D)", "the preset's (learned); sincos when --model is not given"),
  "head-hidden": s("projector hidden width (default: core's)"),
  "head-out": s("projector output width (default: core's)"),
  "crop-scale": s("area range min,max of the random-resized crops, in (0, 1]", "the data set's, else 0.08,1 (mocov3) / 0.4,1 (dino)"),
  flip: s("random horizontal flips: on | off", "the data set's, else on"),
  "color-jitter": s("colour jitter + random grayscale: on | off", "the data set's, else on"),
  batch: s("batch size", String(D.batch)),
  epochs: s("epochs (instead of --steps)"),
  steps: s("optimisation steps", String(D.steps)),
  lr: s("peak learning rate (AdamW, cosine schedule)", String(D.lr)),
  wd: s("weight decay", String(D.wd)),
  warmup: s("warm-up steps", "min(50, steps/10)"),
  seed: s("seed of initialisation, data order, augmentation and DILEMMA sampling", String(D.seed)),
  engine: engineFlag(),
  precision: precisionFlag(),
  out: s("run directory", "runs/<time>-<method>-<data>"),
  resume: s("continue this run directory from its latest checkpoint (only --lr and run-time flags may change)"),
  init: s("start from these encoder weights: a .safetensors file with timm ViT names (export's model.safetensors, or timm / PyTorch)"),
  quiet: b("no progress output"),
  "eval-every": s("kNN / detection evaluation every N steps", "steps/2"),
  "ckpt-every": s("checkpoint every N steps", "min(50, steps)"),
  "keep-checkpoints": s("how many checkpoints to keep", String(D.keepCheckpoints)),
  "knn-bank": s("training images in the kNN memory bank (a seeded class-balanced sample; kept in config.json)", String(DEFAULT_EVAL.bank)),
  "knn-queries": s("validation images scored by kNN and detection (a seeded class-balanced sample)", String(DEFAULT_EVAL.queries)),
  "knn-k": s("neighbours of the kNN classifier", String(DEFAULT_EVAL.k)),
  "eval-seed": s("seed of the eval samples and detection corruptions (not --seed: runs stay comparable)", String(DEFAULT_EVAL.seed)),
  workers: s("data loader worker threads (default: the loader's)"),
  "stop-after": s("stop (checkpoint, resumable) after this step"),
  "time-budget": s("end the run (done) once this many seconds were spent in training steps; --steps still sets the schedule"),
  json: b("print the summary as JSON on stdout"),
  config: s("JSON file of flag values, or a run's config.json to repeat that run (flags given on the command line win)"),
};

const int = (min = 1) => num({ int: true, min });

/** An on/off flag: "on" | "off" on the command line, also true / false in config files. */
const onOff = () => z.preprocess((v) => (v === "on" || v === "true" ? true : v === "off" || v === "false" ? false : v),
  z.boolean({ error: (iss) => `invalid value ${JSON.stringify(iss.input)}; allowed: on, off` }));

/** "min,max" (or [min, max] in a config file) with 0 < min <= max <= 1. */
const cropScale = () => z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    const parts = v.split(",").map((x) => (x.trim() === "" ? NaN : Number(x)));
    return parts.length === 2 && parts.every(Number.isFinite) ? parts : v;
  },
  z.tuple([z.number(), z.number()], { error: "expected two numbers min,max, e.g. 0.35,1" })
    .refine(([lo, hi]) => Number.isFinite(lo) && Number.isFinite(hi) && lo > 0 && lo <= hi && hi <= 1, { error: "expected 0 < min <= max <= 1, e.g. 0.35,1" }),
);
const prob = num({ min: 0, max: 1 });

const trainSchema = z.object({
  data: z.string().min(1).optional(),
  method: oneOf(METHODS).optional(),
  dilemmaProb: prob.optional(),
  tokenDrop: num({ min: 0, max: 1, maxExclusive: true }).optional(),
  dilemmaWeight: num({ min: 0 }).optional(),
  model: z.string().min(1).optional(),
  imgSize: int().optional(), patch: int().optional(), embedDim: int().optional(), depth: int().optional(), heads: int().optional(),
  posEmbed: oneOf(["learned", "sincos"] as const).optional(),
  headHidden: int().optional(), headOut: int().optional(),
  cropScale: cropScale().optional(), flip: onOff().optional(), colorJitter: onOff().optional(),
  batch: int(2).optional(), epochs: num({ min: 0, minExclusive: true }).optional(), steps: int().optional(),
  lr: num({ min: 0, minExclusive: true }).optional(), wd: num({ min: 0 }).optional(), warmup: int(0).optional(),
  seed: int(0).optional(), engine: oneOf(ENGINES).optional(), precision: oneOf(PRECISIONS).optional(),
  out: z.string().min(1).optional(), resume: z.string().min(1).optional(), init: z.string().min(1).optional(),
  quiet: bool().optional(), evalEvery: int().optional(), ckptEvery: int().optional(), keepCheckpoints: int().optional(),
  knnBank: int(0).optional(), knnQueries: int(0).optional(), knnK: int().optional(), evalSeed: int(0).optional(), workers: int(0).optional(), stopAfter: int().optional(), timeBudget: num({ min: 0, minExclusive: true }).optional(),
  json: bool().optional(), positionals,
}).superRefine((v, ctx) => {
  if (v.steps !== undefined && v.epochs !== undefined) ctx.addIssue({ code: "custom", path: ["epochs"], message: "give --steps or --epochs, not both" });
  if (v.resume) {
    // --lr may change on resume (recorded in config.json): the way out after a non-finite loss.
    const allowed = new Set(["resume", "lr", "quiet", "engine", "precision", "evalEvery", "ckptEvery", "workers", "stopAfter", "json", "positionals"]);
    for (const k of Object.keys(v)) {
      if (!allowed.has(k) && (v as Record<string, unknown>)[k] !== undefined) {
        ctx.addIssue({ code: "custom", path: [k], message: "cannot be changed when resuming (the run's config.json fixes it); start a new run with --out to change it" });
      }
    }
  }
});

export const trainCommand: CommandDef<z.infer<typeof trainSchema>> = {
  name: "train",
  summary: "Pretrain a ViT with an SSL method + DILEMMA; writes a run directory (docs/run-format.md).",
  usage: "dilemma-cli train [options]",
  flags: trainFlags,
  maxPositionals: 0,
  examples: ["dilemma-cli train", "dilemma-cli train --data cifar10:./cifar-10-batches-bin --model tiny32 --epochs 10", "dilemma-cli train --resume runs/my-run"],
  schema: trainSchema,
};

const evalSchema = z.object({
  data: z.string().min(1).optional(), tokenDrop: num({ min: 0, max: 1, maxExclusive: true }).optional(), dilemmaProb: prob.optional(),
  seed: int(0).optional(), trainImages: int().optional(), testImages: int().optional(), probeIterations: int().optional(), k: int().optional(),
  engine: oneOf(ENGINES).optional(), precision: oneOf(PRECISIONS).optional(), json: bool().optional(), positionals,
});

export const evalCommand: CommandDef<z.infer<typeof evalSchema>> = {
  name: "eval",
  summary: "kNN and linear-probe accuracy of a run's frozen encoder, and detection accuracy (beside its chance level), balanced accuracy and AUROC, on seeded class-balanced samples of held-out images (the run's eval settings).",
  usage: "dilemma-cli eval <run|checkpoint> [options]",
  positionals: ["<run|checkpoint>"], minPositionals: 1, maxPositionals: 1,
  flags: {
    data: s("dataset spec (default: the run's)"),
    "token-drop": s("token drop of the detection corruption (default: the run's)"),
    "dilemma-prob": s("corruption probability (default: the run's)"),
    seed: s("seed of the eval samples and detection corruptions", "the run's eval seed"),
    "train-images": s("training images for the kNN bank and the probe (a seeded class-balanced sample)", "the run's --knn-bank"),
    "test-images": s("held-out images scored (a seeded class-balanced sample)", "the run's --knn-queries"),
    "probe-iterations": s("full-batch Adam iterations of the linear probe", String(DEFAULT_EVAL.probeIterations)),
    k: s("neighbours of the kNN classifier", "the run's --knn-k"),
    engine: engineFlag(),
    precision: precisionFlag(),
    json: b("print the result as JSON"),
    config: s("JSON file of flag values"),
  },
  schema: evalSchema,
};

const detectSchema = z.object({
  out: z.string().min(1).optional(), tokenDrop: num({ min: 0, max: 1, maxExclusive: true }).optional(), dilemmaProb: prob.optional(),
  seed: int(0).optional(), scale: int().optional(), engine: oneOf(ENGINES).optional(), precision: oneOf(PRECISIONS).optional(),
  json: bool().optional(), positionals,
  swap: z.string().regex(/^\d+,\d+$/, { error: "expected two patch indices like 3,10" })
    .transform((v) => v.split(",").map(Number) as [number, number]).optional(),
});

export const detectCommand: CommandDef<z.infer<typeof detectSchema>> = {
  name: "detect",
  summary: "Per-patch misplacement probabilities under a seeded (or --swap) corruption, as heatmap PNG + JSON.",
  usage: "dilemma-cli detect <run|checkpoint> <image|dir> [options]",
  positionals: ["<run|checkpoint>", "<image|dir>"], minPositionals: 2, maxPositionals: 2,
  flags: {
    out: s("output directory", "<run>/detect"),
    "token-drop": s("token drop (default: the run's)"),
    "dilemma-prob": s("corruption probability (default: the run's)"),
    seed: s("seed of the corruption", "0"),
    swap: s("instead of sampling: keep every patch and exchange the positions of patches i and j, e.g. --swap 3,10"),
    scale: s("output pixels per image pixel", "256/img-size"),
    engine: engineFlag(),
    precision: precisionFlag(),
    json: b("print the results as JSON"),
    config: s("JSON file of flag values"),
  },
  schema: detectSchema,
};

const benchSchema = z.object({
  preset: oneOf(BENCH_PRESET_NAMES).optional(), engine: oneOf(ENGINES).optional(), precision: oneOf(PRECISIONS).optional(),
  steps: int().optional(), warmup: int(0).optional(),
  embed: bool().optional(), reps: int().optional(), json: bool().optional(), positionals,
});

export const benchCommand: CommandDef<z.infer<typeof benchSchema>> = {
  name: "bench",
  summary: "Throughput of the full MoCo v3 + DILEMMA training step (same work as shared/bench/pytorch_bench.py), or --embed: the DilemmaEmbed op.",
  usage: `dilemma-cli bench --preset ${BENCH_PRESET_NAMES.join("|")} [options]`,
  maxPositionals: 0,
  flags: {
    preset: s(BENCH_PRESET_NAMES.join(" | "), BENCH_DEFAULTS.preset),
    engine: engineFlag(),
    precision: precisionFlag(),
    steps: s("timed steps", String(BENCH_DEFAULTS.steps)),
    warmup: s("untimed warm-up steps", String(BENCH_DEFAULTS.warmup)),
    embed: b("micro-benchmark the DilemmaEmbed op instead"),
    reps: s("repetitions per --embed measurement", String(BENCH_DEFAULTS.reps)),
    json: b("print one JSON object"),
    config: s("JSON file of flag values"),
  },
  examples: ["dilemma-cli bench --preset tiny32 --steps 20 --json", "dilemma-cli bench --embed",
    "dilemma-cli bench --preset vits16 --engine cuda --precision bf16"],
  schema: benchSchema,
};

const viewSchema = z.object({ host: z.string().min(1).optional(), port: num({ int: true, min: 0, max: 65535 }).optional(), positionals });

const exportSchema = z.object({ engine: oneOf(ENGINES).optional(), positionals });
export const exportCommand: CommandDef<z.infer<typeof exportSchema>> = {
  name: "export",
  summary: "Write a run's encoder + dilemma_head.* (timm names; safetensors and tfjs weights) + config.json to a directory.",
  usage: "dilemma-cli export <run|checkpoint> <dir>",
  positionals: ["<run|checkpoint>", "<dir>"], minPositionals: 2, maxPositionals: 2,
  flags: { engine: engineFlag(), config: s("JSON file of flag values") },
  schema: exportSchema,
};

export const viewCommand: CommandDef<z.infer<typeof viewSchema>> = {
  name: "view",
  summary: "Serve the web viewer and the named runs or studies (default: every run under ./runs) on 127.0.0.1.",
  usage: "dilemma-cli view [run|study...] [options]",
  positionals: ["[run|study...]"],
  flags: { host: s("address to listen on", VIEW_DEFAULTS.host), port: s("port (a free one is used when taken)", String(VIEW_DEFAULTS.port)), config: s("JSON file of flag values") },
  schema: viewSchema,
};

const dataSchema = z.object({ info: bool().optional(), imgSize: int().optional(), json: bool().optional(), positionals });
export const dataCommand: CommandDef<z.infer<typeof dataSchema>> = {
  name: "data",
  summary: "Describe a dataset spec (splits, classes, skipped files).",
  usage: "dilemma-cli data <spec> --info [options]",
  positionals: ["<spec>"], minPositionals: 1, maxPositionals: 1,
  flags: { info: b("print the dataset's description"), "img-size": s("image size", String(DATA_INFO_IMG_SIZE)), json: b("print JSON"), config: s("JSON file of flag values") },
  schema: dataSchema,
};

export const COMMANDS = [trainCommand, evalCommand, detectCommand, benchCommand, viewCommand, exportCommand, dataCommand, studyCommand] as const;
