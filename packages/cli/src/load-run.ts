// Opening a trained run (or one of its checkpoints) for eval / detect / export.
import type { SSLMethod } from "@dilemma/core";
import { loadCheckpoint, resolveCheckpoint } from "./checkpoint.js";
import { readConfig, type RunConfig } from "./run-dir.js";
import { methodForRun } from "./train.js";

export interface OpenedRun { runDir: string; ckptDir: string; step: number; config: RunConfig; method: SSLMethod }

/** The method of a run with the weights of its latest (or the given) checkpoint; caller disposes. */
export function openRun(target: string): OpenedRun {
  const { runDir, ckptDir, step } = resolveCheckpoint(target);
  const config = readConfig(runDir);
  const method = methodForRun(config);
  try {
    loadCheckpoint(ckptDir, method, false);
  } catch (e) {
    method.dispose();
    throw e;
  }
  return { runDir, ckptDir, step, config, method };
}
