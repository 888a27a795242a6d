// The cli's defaults and its engine / precision lists: train(), the engine selector, the flag
// schemas and --help all read them here.
import type { MethodName } from "@dilemma/core";
import type { FlagDef } from "./args.js";
import type { BenchPreset } from "./bench.js";
import type { EvalSettings } from "./run-dir.js";

export const ENGINES = ["auto", "cuda", "native", "cpu", "tensorflow"] as const;
export type EngineName = (typeof ENGINES)[number];
/** Matrix-product precisions of the cuda engine (the others compute in fp32). */
export const PRECISIONS = ["fp32", "tf32", "bf16"] as const;
export type Precision = (typeof PRECISIONS)[number];
export const DEFAULT_ENGINE: EngineName = "auto";
export const DEFAULT_PRECISION: Precision = "fp32";
export const engineFlag = (): FlagDef => ({ type: "string", desc: `compute engine: ${ENGINES.join(" | ")}`, default: DEFAULT_ENGINE });
export const precisionFlag = (): FlagDef => ({ type: "string", desc: `matrix-product precision of the cuda engine: ${PRECISIONS.join(" | ")}`, default: DEFAULT_PRECISION });

// The default run (docs/quality.md has the measurements behind each choice): `scenes`, whose
// layout says where a patch belongs; fixed sin-cos positions (MoCo v3's), which carry that
// geometry from the first step where learned ones start as noise; 8-px patches (a 4x4 grid)
// and half the tokens kept, so the detection head gets more context per image and a step is
// cheaper; the detection loss weighted 4 and a higher learning rate, for a 3-minute budget.
// They differ from core's defaultMethodConfig on purpose: that one keeps the papers' settings.
export const TRAIN_DEFAULTS = {
  data: "scenes", method: "mocov3" as MethodName, dilemmaProb: 0.2, tokenDrop: 0.5, dilemmaWeight: 4,
  model: "micro32", batch: 32, steps: 400, lr: 1.5e-3, wd: 0.05, seed: 0, keepCheckpoints: 3,
};
/** What the default model (no --model) changes in its preset. */
export const DEFAULT_MODEL_OVERRIDES = { patchSize: 8, posEmbed: "sincos" as const };

/** Defaults that follow from the schedule's length (steps). */
export const defaultWarmup = (steps: number): number => Math.min(50, Math.floor(steps / 10));
export const defaultEvalEvery = (steps: number): number => Math.max(1, Math.ceil(steps / 2));
export const defaultCkptEvery = (steps: number): number => Math.max(1, Math.min(50, steps));

/** `bench`: preset, timed and warm-up steps, --embed repetitions. */
export const BENCH_DEFAULTS = { preset: "tiny32" as BenchPreset, steps: 10, warmup: 2, reps: 50 };
/** `view`: where the viewer listens (a free port when this one is taken). */
export const VIEW_DEFAULTS = { host: "127.0.0.1", port: 5174 };
/** `data --info`: the image size datasets are described at. */
export const DATA_INFO_IMG_SIZE = 32;

/** Eval settings of new runs, and of runs written before config.json had them. */
export const DEFAULT_EVAL: EvalSettings = { bank: 500, queries: 250, k: 20, seed: 0, probeIterations: 300 };
