// `dilemma-cli eval`: kNN, linear probe and detection on held-out images of a trained run.
import { NORMALIZE, openDataset, readEvalSample, type Split } from "./data/index.js";
import { detectionEval, knnEval, labelled, probeEval } from "./evaluate.js";
import { evalSettingsOf } from "./run-dir.js";
import { openRun } from "./run.js";

/** Options of {@link evaluate}. */
export interface EvalOptions {
  /** Run directory or checkpoint directory. */
  target: string;
  /** Dataset spec (default: the run's). */
  data?: string;
  /** Detection corruption (default: the run's). */
  tokenDrop?: number;
  dilemmaProb?: number;
  /** Seed of the eval sample and the detection corruptions (default: the run's eval seed). */
  seed?: number;
  /**
   * Train images for the kNN bank / probe; held-out images scored (default: the run's eval
   * settings in config.json): seeded class-balanced samples of the splits.
   */
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
  /** The eval settings used (the run's, with the options given on top). */
  settings: { trainImages: number; testImages: number; k: number; seed: number; probeIterations: number };
  /** accuracy is to be read against chance (the majority rate, 1 - p); balancedAccuracy 0.5 = chance. */
  detection?: { tokenDrop: number; dilemmaProb: number; seed: number; accuracy: number; chance: number; balancedAccuracy: number; auroc: number; tokens: number; misplaced: number };
}

/** Evaluates a run's encoder (frozen) and detection head on held-out images. */
export async function evaluate(o: EvalOptions): Promise<EvalResult> {
  const run = openRun(o.target);
  const { config, method } = run;
  const ds = await openDataset(o.data ?? config.data.spec, { imageSize: config.model.imgSize, seed: config.seed });
  try {
    const ev = evalSettingsOf(config);
    const settings = {
      trainImages: o.trainImages ?? ev.bank, testImages: o.testImages ?? ev.queries, k: o.k ?? ev.k,
      seed: o.seed ?? ev.seed, probeIterations: o.probeIterations ?? ev.probeIterations,
    };
    // Held out: the test split when the dataset has one, else val.
    const split: Split = ds.size("test") > 0 ? "test" : "val";
    const bank = labelled(await readEvalSample(ds, "train", settings.trainImages, settings.seed));
    const test = await readEvalSample(ds, split, settings.testImages, settings.seed);
    const tests = labelled(test);
    const res: EvalResult = {
      runDir: run.runDir, checkpoint: run.ckptDir, step: run.step, data: ds.spec, split, numTrain: bank.length, numTest: test.length, settings,
    };
    const { imgSize, patchSize } = config.model;
    if (bank.length && tests.length && ds.numClasses > 1) {
      res.knnAcc = knnEval(method, bank, tests, ds, imgSize, NORMALIZE, settings.k);
      res.linearProbeAcc = probeEval(method, bank, tests, ds.numClasses, imgSize, NORMALIZE, settings.probeIterations);
    }
    const tokenDrop = o.tokenDrop ?? config.dilemma.tokenDrop;
    const dilemmaProb = o.dilemmaProb ?? config.dilemma.dilemmaProb;
    const seed = settings.seed;
    if (config.dilemma.dilemmaProb > 0 && test.length) {
      const d = detectionEval(method, test, imgSize, patchSize, NORMALIZE, { tokenDrop, dilemmaProb, seed });
      res.detection = {
        tokenDrop, dilemmaProb, seed, accuracy: d.accuracy, chance: d.chance, balancedAccuracy: d.balancedAccuracy, auroc: d.auroc,
        tokens: d.count, misplaced: d.positives,
      };
    }
    return res;
  } finally {
    method.dispose();
    await ds.close?.();
  }
}
