// The study spec: which data sets, methods, arms (name -> train flag overrides), seeds and
// wall-clock budget; its validation; the default spec (the paper's comparison in miniature);
// and the matrix of runs it expands to.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { UsageError } from "../args.js";
import { parseDataSpec } from "../data/spec.js";
import type { TrainOptions } from "../train.js";

export const STUDY_METHODS = ["mocov3", "dino", "simclr"] as const;

/** Train options a recipe or an arm may set (everything else the study decides). */
const recipeSchema = z.object({
  model: z.string().min(1).optional(),
  imgSize: z.number().int().positive().optional(),
  patch: z.number().int().positive().optional(),
  embedDim: z.number().int().positive().optional(),
  depth: z.number().int().positive().optional(),
  heads: z.number().int().positive().optional(),
  posEmbed: z.enum(["learned", "sincos"]).optional(),
  headHidden: z.number().int().positive().optional(),
  headOut: z.number().int().positive().optional(),
  batch: z.number().int().min(2).optional(),
  lr: z.number().positive().optional(),
  wd: z.number().min(0).optional(),
  tokenDrop: z.number().min(0).lt(1).optional(),
  dilemmaProb: z.number().min(0).max(1).optional(),
  dilemmaWeight: z.number().min(0).optional(),
  knnBank: z.number().int().min(0).optional(),
  knnQueries: z.number().int().min(0).optional(),
  workers: z.number().int().min(0).optional(),
}).strict();
export type Recipe = z.infer<typeof recipeSchema>;

const evalSchema = z.object({
  /** Training images of the kNN bank / probe, and held-out images scored. */
  trainImages: z.number().int().positive(),
  testImages: z.number().int().positive(),
  probeIterations: z.number().int().positive(),
  k: z.number().int().positive(),
  /** Fractions of test patches dropped for the occlusion probe. */
  occlusion: z.array(z.number().min(0).lt(1)).min(1),
  /** Seed of the dropped patches and of the detection corruptions (the same for every run). */
  seed: z.number().int().min(0),
  /** The corruption under which detection AUROC is measured (runs with a detection head). */
  detection: z.object({ tokenDrop: z.number().min(0).lt(1), dilemmaProb: z.number().gt(0).max(1) }),
}).strict();

export const studySpecSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: "use letters, digits, . _ -" }),
  datasets: z.array(z.string().min(1)).min(1),
  methods: z.array(z.enum(STUDY_METHODS)).min(1),
  /** The recipe every run shares (train options). */
  recipe: recipeSchema,
  /** Arms in order: name -> overrides of the recipe. The first is the baseline of the comparison. */
  arms: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, { error: "arm names: letters, digits, _ -" }), recipeSchema)
    .refine((a) => Object.keys(a).length >= 1, { error: "at least one arm" }),
  seeds: z.array(z.number().int().min(0)).min(1),
  /** Seconds of training steps per run (train --time-budget). */
  budget: z.number().positive(),
  /** Warm-up as a fraction of each run's scheduled steps (the same rule for every arm). */
  warmupFraction: z.number().min(0).lt(1),
  /** Evaluations during training (for the curves against time). */
  evalPoints: z.number().int().min(1),
  eval: evalSchema,
}).strict().superRefine((s, ctx) => {
  const dup = <T>(xs: T[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  for (const [key, xs] of [["datasets", s.datasets], ["methods", s.methods], ["seeds", s.seeds]] as const) {
    const d = dup<unknown>([...xs]);
    if (d !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `${JSON.stringify(d)} is listed twice` });
  }
});
export type StudySpec = z.infer<typeof studySpecSchema>;

/** The paper's comparison: DILEMMA vs plain at equal wall-clock time, the arms differing only in the DILEMMA flags. */
export function defaultSpec(): StudySpec {
  return {
    name: "dilemma-vs-plain",
    datasets: ["shapes", "mnist"],
    methods: ["mocov3", "dino", "simclr"],
    // Fixed before any run and spelled out, so that train's defaults (tuned later for its default
    // run) do not move it: the micro32 preset as is, AdamW lr 5e-4, wd 0.05, lambda 1.
    recipe: { model: "micro32", batch: 32, lr: 5e-4, wd: 0.05, dilemmaWeight: 1, knnBank: 500, knnQueries: 250 },
    arms: {
      plain: { tokenDrop: 0, dilemmaProb: 0 },
      dilemma: { tokenDrop: 0.75, dilemmaProb: 0.2 },
    },
    seeds: [0, 1, 2],
    budget: 300,
    warmupFraction: 0.1,
    evalPoints: 6,
    eval: {
      trainImages: 2000, testImages: 1000, probeIterations: 300, k: 20, occlusion: [0.25, 0.5, 0.75], seed: 0,
      detection: { tokenDrop: 0.75, dilemmaProb: 0.2 },
    },
  };
}

/** A study usage problem (bad spec or flags): the cli prints it and exits with code 2. */
export class StudySpecError extends UsageError {
  override name = "StudySpecError";
}

/** Validates a spec object; the error names each bad field. */
export function parseSpec(obj: unknown, where = "spec"): StudySpec {
  const r = studySpecSchema.safeParse(obj);
  if (!r.success) {
    throw new StudySpecError(r.error.issues.map((i) => `${where}: ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`).join("\n"));
  }
  // A bad data spec fails here, not hours into the study.
  r.data.datasets.forEach((d, i) => {
    try {
      const p = parseDataSpec(d);
      if (p.path !== undefined && !fs.existsSync(p.path)) throw new Error(`${p.path} does not exist`);
    } catch (e) {
      throw new StudySpecError(`${where}: datasets.${i}: ${(e as Error).message}`);
    }
  });
  return r.data;
}

/** Reads a spec file: the default spec with the file's top-level fields replacing its own. */
export function readSpecFile(file: string): StudySpec {
  let obj: unknown;
  try {
    obj = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new StudySpecError(`--spec ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (e as Error).message}`);
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new StudySpecError(`--spec ${file}: expected a JSON object (fields: ${Object.keys(defaultSpec()).join(", ")})`);
  return parseSpec({ ...defaultSpec(), ...obj }, `--spec ${file}`);
}

/** CIFAR-10's binary files under `dir` (or its cifar-10-batches-bin/), or null when absent. */
export function findCifar10(dir: string): string | null {
  const files = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];
  for (const d of [dir, path.join(dir, "cifar-10-batches-bin")]) {
    if (files.every((f) => fs.existsSync(path.join(d, f)))) return d;
  }
  return null;
}

/** One run of the matrix. */
export interface MatrixRun {
  /** Unique, file-name safe: `<data>-<method>-<arm>-s<seed>`. */
  id: string;
  /** The configuration (all seeds): `<data>-<method>-<arm>`. */
  configId: string;
  dataset: string;
  method: (typeof STUDY_METHODS)[number];
  arm: string;
  seed: number;
}

/** A data spec as a file-name part: "cifar10:/x/y" -> "cifar10", "shapes:n=100" -> "shapes_n_100". */
export function dataKey(spec: string): string {
  const [kind, rest = ""] = spec.split(/:(.*)/s);
  if (["cifar10", "cifar100", "folder"].includes(kind)) return kind;
  return (rest ? `${kind}_${rest}` : kind).replace(/[^A-Za-z0-9]+/g, "_").replace(/_+$/, "");
}

/**
 * The runs of a spec, seed-major with the arms adjacent (seed, data set, method, arm): a change
 * of machine load during the study hits both arms of a comparison alike.
 */
export function expandMatrix(spec: StudySpec): MatrixRun[] {
  const keys = spec.datasets.map(dataKey);
  const dupKey = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dupKey) throw new StudySpecError(`spec: datasets: two data sets share the name "${dupKey}"; a study takes one of each kind`);
  const out: MatrixRun[] = [];
  for (const seed of spec.seeds) {
    spec.datasets.forEach((dataset, di) => {
      for (const method of spec.methods) {
        for (const arm of Object.keys(spec.arms)) {
          const configId = `${keys[di]}-${method}-${arm}`;
          out.push({ id: `${configId}-s${seed}`, configId, dataset, method, arm, seed });
        }
      }
    });
  }
  return out;
}

/** The train options of a run (recipe, then the arm's overrides, then the run's own fields). */
export function trainOptionsFor(spec: StudySpec, run: MatrixRun): TrainOptions {
  return { ...spec.recipe, ...spec.arms[run.arm], data: run.dataset, method: run.method, seed: run.seed };
}

/** Scheduled steps and warm-up for a configuration whose steps take `secondsPerStep`. */
export function budgetSteps(budget: number, secondsPerStep: number, warmupFraction: number): { steps: number; warmup: number } {
  if (!(secondsPerStep > 0) || !Number.isFinite(secondsPerStep)) throw new Error(`seconds per step must be a positive number, got ${secondsPerStep}`);
  const steps = Math.max(1, Math.floor(budget / secondsPerStep));
  return { steps, warmup: Math.min(steps - 1, Math.round(warmupFraction * steps)) };
}
