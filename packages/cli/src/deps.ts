// The one place the cli reaches into modules built in parallel (core's model/train, the data
// module, the engine selector), so that the integration surface stays small.
// tfjs-core before @dilemma/core: core's gradient bundle must find tfjs-core's engine already made.
import "@tensorflow/tfjs-core";
import { createMethod, defaultMethodConfig, sampleDilemma, VIT_PRESETS } from "@dilemma/core";
import * as dataModule from "./data/index.js";

export type { Augment, Batch, Dataset, Sample, Split, LoaderOptions } from "./data/index.js";
export type { Loader } from "./data/index.js";

/** The parts of @dilemma/core the cli uses beyond api.ts. */
export const coreModel = { VIT_PRESETS, createMethod, defaultMethodConfig, sampleDilemma };

/** The data module (src/data). */
export async function data(): Promise<typeof dataModule> {
  return dataModule;
}

// ---- engine selection (src/engine.ts, written with the native engine) ----
export { selectEngine, type EngineChoice } from "./engine.js";
export type { EngineName, Precision } from "./defaults.js";
