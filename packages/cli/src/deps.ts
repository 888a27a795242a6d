// The one place the cli reaches into modules built in parallel (core's model/train, the data
// module, the engine selector), so that the integration surface stays small.
import * as tf from "@tensorflow/tfjs-core";
import { createMethod, defaultMethodConfig, sampleDilemma, VIT_PRESETS } from "@dilemma/core";
import * as dataModule from "./data/index.js";

export type { Batch, Dataset, Sample, Split, LoaderOptions } from "./data/index.js";
export type { Loader } from "./data/index.js";

/** The parts of @dilemma/core the cli uses beyond api.ts. */
export const coreModel = { VIT_PRESETS, createMethod, defaultMethodConfig, sampleDilemma };

/** The data module (src/data). */
export async function data(): Promise<typeof dataModule> {
  return dataModule;
}

// ---- engine selection (src/engine.ts, written with the native engine) ----

export type EngineName = "auto" | "native" | "cpu" | "tensorflow";
export interface EngineChoice { name: string; reason: string }

/** Selects and activates a tfjs backend; falls back to tfjs' pure-JS cpu backend. */
export async function selectEngine(name: EngineName): Promise<EngineChoice> {
  // A computed specifier: engine.ts may not exist yet in a checkout without the native work.
  const spec = "./engine.js";
  let mod: { selectEngine?: (n: EngineName) => Promise<EngineChoice> } | undefined;
  try {
    mod = await import(spec);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND" && !/Cannot find module|Failed to load/.test(String((e as Error).message))) throw e;
    mod = undefined;
  }
  if (mod?.selectEngine) return mod.selectEngine(name);
  return fallbackSelectEngine(name);
}

/** Without src/engine.ts: @dilemma/native's backend when it loads, else tfjs' cpu backend. */
async function fallbackSelectEngine(name: EngineName): Promise<EngineChoice> {
  if (name === "tensorflow") throw new Error("--engine tensorflow is not available in this build; use --engine auto, native or cpu");
  let why = "not requested";
  if (name === "auto" || name === "native") {
    try {
      const native = (await import("@dilemma/native")) as { useNativeBackend(): Promise<void> };
      await native.useNativeBackend();
      tf.enableProdMode();
      return { name: "native", reason: "@dilemma/native addon" };
    } catch (e) {
      why = (e as Error).message;
      if (name === "native") throw new Error(`--engine native: ${why}; use --engine cpu, or build it (npm run build -w @dilemma/native)`);
    }
  }
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  // Production mode: skips tfjs debug checks and its "install tfjs-node" console banner.
  tf.enableProdMode();
  return { name: "cpu", reason: name === "cpu" ? "requested" : `tfjs cpu backend (native engine: ${why})` };
}
