// The one place the cli reaches into modules built in parallel (core's model/train, the data
// module, the engine selector). Everything else imports from here, so that the integration
// surface stays small and the errors when a piece is missing name it.
import * as core from "@dilemma/core";
import * as tf from "@tensorflow/tfjs-core";
import type { DilemmaSample, DetectionMetrics, MethodConfig, RngState, SSLMethod, ViTConfig } from "@dilemma/core";

/** The parts of @dilemma/core the cli uses beyond api.ts. */
export interface CoreModel {
  VIT_PRESETS: Record<string, ViTConfig>;
  createMethod(config: MethodConfig): SSLMethod;
  defaultMethodConfig(partial: Partial<MethodConfig> & { vit: ViTConfig }): MethodConfig;
  sampleDilemma(args: { batch: number; numPatches: number; tokenDrop: number; dilemmaProb: number; rng: RngState }): DilemmaSample;
}

function need<K extends keyof CoreModel>(name: K): CoreModel[K] {
  const v = (core as unknown as Partial<CoreModel>)[name];
  if (v === undefined) {
    throw new Error(`@dilemma/core does not export ${String(name)}; rebuild it (npm run build -w @dilemma/core)`);
  }
  return v as CoreModel[K];
}

/** Lazily resolved core exports (they throw a clear error when core lacks them). */
export const coreModel = {
  get VIT_PRESETS(): Record<string, ViTConfig> { return need("VIT_PRESETS"); },
  createMethod: (c: MethodConfig): SSLMethod => need("createMethod")(c),
  defaultMethodConfig: (p: Partial<MethodConfig> & { vit: ViTConfig }): MethodConfig => need("defaultMethodConfig")(p),
  sampleDilemma: (a: Parameters<CoreModel["sampleDilemma"]>[0]): DilemmaSample => need("sampleDilemma")(a),
};

export type { DetectionMetrics };

// ---- data module (src/data) ----

/** One image as the data module returns it. */
export interface Sample { pixels: Uint8Array; width: number; height: number; label: number }
export type Split = "train" | "val" | "test";
export interface Dataset {
  spec: string; name: string; numClasses: number; classNames: string[]; imageSize: number;
  size(split: Split): number;
  get(split: Split, index: number): Promise<Sample> | Sample;
  skipped: { count: number; examples: string[] };
  close?(): void | Promise<void>;
}
export interface Batch { views: Float32Array[]; labels: Int32Array; indices: Int32Array; step: number }
export interface LoaderOptions {
  split: Split; batchSize: number; imageSize: number; recipe: "mocov3" | "dino" | "eval"; seed: number;
  startStep?: number; workers?: number; prefetch?: number; dropLast?: boolean; shuffle?: boolean;
}
export interface Loader { next(): Promise<Batch>; stepsPerEpoch: number; close(): Promise<void> }
export interface DataModule {
  openDataset(spec: string, opts: { imageSize: number; seed?: number; cacheDir?: string }): Promise<Dataset>;
  Loader: new (ds: Dataset, opts: LoaderOptions) => Loader;
  datasetInfo(spec: string, opts?: Record<string, unknown>): Promise<unknown>;
  formatDatasetInfo(info: unknown): string;
  NORMALIZE: { mean: number[] | readonly number[]; std: number[] | readonly number[] };
}

let dataModule: Promise<DataModule> | undefined;
/** The data module (src/data), loaded on first use. */
export function data(): Promise<DataModule> {
  const spec = "./data/index.js";
  dataModule ??= (import(spec) as Promise<DataModule>).catch((e: unknown) => {
    throw new Error(`the data module (packages/cli/src/data) is not available: ${(e as Error).message}`);
  });
  return dataModule;
}

// ---- engine selection (src/engine.ts) ----

export type EngineName = "auto" | "native" | "cpu" | "tensorflow";
export interface EngineChoice { name: string; reason: string }

/** Selects and activates a tfjs backend; falls back to tfjs' pure-JS cpu backend. */
export async function selectEngine(name: EngineName): Promise<EngineChoice> {
  const spec = "./engine.js";
  let mod: { selectEngine?: (n: EngineName) => Promise<EngineChoice> } | undefined;
  try {
    mod = await import(spec);
  } catch {
    mod = undefined;
  }
  if (mod?.selectEngine) return mod.selectEngine(name);
  if (name !== "auto" && name !== "cpu") {
    throw new Error(`--engine ${name} is not available in this build (no engine selector); use --engine cpu or auto`);
  }
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  return { name: "cpu", reason: "tfjs cpu backend (engine selector not built)" };
}
