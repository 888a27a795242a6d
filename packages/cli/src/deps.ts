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
  if (name !== "auto" && name !== "cpu") {
    throw new Error(`--engine ${name} is not available in this build (no engine selector); use --engine cpu or auto`);
  }
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  return { name: "cpu", reason: "tfjs cpu backend (engine selector not built)" };
}
