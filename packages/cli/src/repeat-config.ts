// `dilemma-cli train --config runs/<name>/config.json`: a run's own config.json as flag values,
// so the run can be repeated (into a new directory) with every setting it was made with.
import { evalSettingsOf, type RunConfig } from "./run-dir.js";

/** True when a --config file is a run's config.json (docs/run-format.md) rather than flag values. */
export function isRunConfig(obj: Record<string, unknown>): boolean {
  return obj.version === 1 && typeof obj.model === "object" && typeof obj.optim === "object" && typeof obj.dilemma === "object";
}

/**
 * The train flags that reproduce a run (camelCase). The engine is left to `--engine` (the run's
 * may be absent here) and the run directory to `--out` (a new one).
 */
export function trainFlagsOfRun(c: RunConfig): Record<string, unknown> {
  const ev = evalSettingsOf(c);
  const m = c.model;
  return {
    data: c.data.spec, method: c.method,
    dilemmaProb: c.dilemma.dilemmaProb, tokenDrop: c.dilemma.tokenDrop, dilemmaWeight: c.dilemma.dilemmaWeight,
    model: m.preset, imgSize: m.imgSize, patch: m.patchSize, embedDim: m.embedDim, depth: m.depth, heads: m.numHeads,
    ...(m.posEmbed ? { posEmbed: m.posEmbed } : {}),
    ...(c.heads.headHidden > 0 ? { headHidden: c.heads.headHidden } : {}),
    ...(c.heads.headOut > 0 ? { headOut: c.heads.headOut } : {}),
    batch: c.optim.batch, steps: c.optim.steps, lr: c.optim.lr, wd: c.optim.weightDecay, warmup: c.optim.warmupSteps,
    seed: c.seed, evalEvery: c.evalEvery, ckptEvery: c.ckptEvery, keepCheckpoints: c.keepCheckpoints,
    knnBank: ev.bank, knnQueries: ev.queries, knnK: ev.k, evalSeed: ev.seed,
    ...(c.augment ? { cropScale: c.augment.cropScale, flip: c.augment.flip, colorJitter: c.augment.colorJitter } : {}),
    ...(c.timeBudget !== undefined ? { timeBudget: c.timeBudget } : {}),
    ...(c.init ? { init: c.init.file } : {}),
  };
}
