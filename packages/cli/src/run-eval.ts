// `dilemma-cli eval`: kNN, linear probe and detection on held-out images of a trained run.
import { data, type Split } from "./deps.js";
import { detectionEval, knnEval, labelled, probeEval } from "./evaluate.js";
import { readSplit } from "./images.js";
import { openRun } from "./load-run.js";

/** Options of {@link evaluate}. */
export interface EvalOptions {
  /** Run directory or checkpoint directory. */
  target: string;
  /** Dataset spec (default: the run's). */
  data?: string;
  /** Detection corruption (default: the run's). */
  tokenDrop?: number;
  dilemmaProb?: number;
  /** Seed of the detection corruptions. */
  seed?: number;
  /** Train images for the kNN bank / probe; held-out images scored. */
  trainImages?: number;
  testImages?: number;
  probeIterations?: number;
  k?: number;
}

/** What {@link evaluate} measures. */
export interface EvalResult {
  runDir: string;
  checkpoint: string;
  step: number;
  data: string;
  split: Split;
  numTrain: number;
  numTest: number;
  knnAcc?: number;
  linearProbeAcc?: number;
  detection?: { tokenDrop: number; dilemmaProb: number; seed: number; accuracy: number; auroc: number; tokens: number; misplaced: number };
}

/** Evaluates a run's encoder (frozen) and detection head on held-out images. */
export async function evaluate(o: EvalOptions): Promise<EvalResult> {
  const run = openRun(o.target);
  const { config, method } = run;
  const { openDataset, NORMALIZE } = await data();
  const ds = await openDataset(o.data ?? config.data.spec, { imageSize: config.model.imgSize, seed: config.seed });
  try {
    // Held out: the test split when the dataset has one, else val.
    const split: Split = ds.size("test") > 0 ? "test" : "val";
    const bank = labelled(await readSplit(ds, "train", o.trainImages ?? 2000));
    const test = await readSplit(ds, split, o.testImages ?? 1000);
    const tests = labelled(test);
    const res: EvalResult = {
      runDir: run.runDir, checkpoint: run.ckptDir, step: run.step, data: ds.spec, split, numTrain: bank.length, numTest: test.length,
    };
    const { imgSize, patchSize } = config.model;
    if (bank.length && tests.length && ds.numClasses > 1) {
      res.knnAcc = knnEval(method, bank, tests, ds, imgSize, NORMALIZE, o.k ?? 20);
      res.linearProbeAcc = probeEval(method, bank, tests, ds.numClasses, imgSize, NORMALIZE, o.probeIterations ?? 300);
    }
    const tokenDrop = o.tokenDrop ?? config.dilemma.tokenDrop;
    const dilemmaProb = o.dilemmaProb ?? (config.dilemma.dilemmaProb || 0.2);
    const seed = o.seed ?? 0;
    if (config.dilemma.dilemmaProb > 0 && test.length) {
      const d = detectionEval(method, test, imgSize, patchSize, NORMALIZE, { tokenDrop, dilemmaProb, seed });
      res.detection = { tokenDrop, dilemmaProb, seed, accuracy: d.accuracy, auroc: d.auroc, tokens: d.count, misplaced: d.positives };
    }
    return res;
  } finally {
    method.dispose();
    await ds.close?.();
  }
}
