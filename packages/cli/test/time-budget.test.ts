// train --time-budget (the study's equal wall-clock budget) and the occlusion evaluation, on
// the tiny test model.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { resolveCheckpoint } from "../src/checkpoint.js";
import { extractFeatures, labelled } from "../src/evaluate.js";
import { NORMALIZE, openDataset, readEvalSample } from "../src/data/index.js";
import { openRun } from "../src/run.js";
import { occludedFeatures, occlusionEval } from "../src/occlusion.js";
import { train } from "../src/train.js";
import { readJsonl, tmpDir, TINY } from "./helpers.js";

const trainLines = (dir: string) => readJsonl(path.join(dir, "metrics.jsonl")).filter((m) => m.kind === "train") as { step: number; trainTime: number }[];

describe("train --time-budget", () => {
  it("ends the run (done) at the first step boundary after the budget, with a final checkpoint and evaluation", async () => {
    const budget = 0.4;
    const r = await train({ ...TINY, out: path.join(tmpDir("budget"), "run"), steps: 100000, timeBudget: budget });
    expect(r).toMatchObject({ state: "done", budgetSpent: true, totalSteps: 100000 });
    expect(r.step).toBeGreaterThan(0);
    expect(r.step).toBeLessThan(100000);
    const lines = trainLines(r.runDir);
    expect(lines.at(-1)!.step).toBe(r.step);
    // The last step crossed the budget; the one before had not.
    expect(lines.at(-1)!.trainTime).toBeGreaterThanOrEqual(budget);
    if (lines.length > 1) expect(lines.at(-2)!.trainTime).toBeLessThan(budget);
    expect(r.trainTime).toBe(lines.at(-1)!.trainTime);
    expect(resolveCheckpoint(r.runDir).step).toBe(r.step);
    const status = JSON.parse(fs.readFileSync(path.join(r.runDir, "status.json"), "utf8"));
    expect(status).toMatchObject({ state: "done", step: r.step, totalSteps: 100000 });
    expect(status.message).toMatch(new RegExp(`time budget of ${budget} s spent at step ${r.step} of 100000`));
    expect(JSON.parse(fs.readFileSync(path.join(r.runDir, "config.json"), "utf8")).timeBudget).toBe(budget);
    const evals = readJsonl(path.join(r.runDir, "metrics.jsonl")).filter((m) => m.kind === "eval");
    expect(evals.at(-1)).toMatchObject({ step: r.step });
  });

  it("a resumed run keeps counting its budget from the checkpoint", async () => {
    // Long enough that two tiny steps fit even on a loaded machine; no periodic checkpoints.
    const budget = 3;
    const part = await train({ ...TINY, out: path.join(tmpDir("budget-resume"), "run"), steps: 100000, timeBudget: budget, stopAfter: 2, ckptEvery: 100000 });
    expect(part).toMatchObject({ state: "stopped", step: 2, budgetSpent: false });
    const state = JSON.parse(fs.readFileSync(path.join(resolveCheckpoint(part.runDir).ckptDir, "state.json"), "utf8"));
    expect(state.extra.trainTime).toBe(part.trainTime);
    const r = await train({ resume: part.runDir, quiet: true, engine: "cpu", workers: 0, knnBank: 32, knnQueries: 16 });
    expect(r).toMatchObject({ state: "done", budgetSpent: true });
    const lines = trainLines(part.runDir);
    expect(lines.map((l) => l.step)).toEqual(Array.from({ length: r.step }, (_, i) => i + 1));
    // Cumulative across the resume: step 3 starts from step 2's clock.
    expect(lines[2].trainTime).toBeGreaterThan(lines[1].trainTime);
    expect(lines[1].trainTime).toBe(part.trainTime);
    expect(r.trainTime).toBeGreaterThanOrEqual(budget);
    // Resuming a finished budget run trains nothing more.
    const again = await train({ resume: part.runDir, quiet: true, engine: "cpu", workers: 0, knnBank: 32, knnQueries: 16 });
    expect(again).toMatchObject({ state: "done", step: r.step, losses: [] });
  });
});

describe("occlusion robustness", () => {
  it("drops seeded random patches: fraction 0 is the dense encoder, more dropped changes features, a seed repeats", async () => {
    const run = await train({ ...TINY, out: path.join(tmpDir("occl"), "run"), steps: 2 });
    const opened = openRun(run.runDir);
    const ds = await openDataset(opened.config.data.spec, { imageSize: 16, seed: 3 });
    try {
      const bank = labelled(await readEvalSample(ds, "train", 32));
      const tests = labelled(await readEvalSample(ds, "val", 16));
      const dense = extractFeatures(opened.method, tests, 16, NORMALIZE).feats;
      // All patches kept (in a shuffled order, each at its own position): the same cls features.
      const all = occludedFeatures(opened.method, tests, 16, NORMALIZE, 0, 0);
      expect(tf.max(tf.abs(tf.sub(all, dense))).dataSync()[0]).toBeLessThan(1e-4);
      const half = occludedFeatures(opened.method, tests, 16, NORMALIZE, 0.5, 0);
      const halfAgain = occludedFeatures(opened.method, tests, 16, NORMALIZE, 0.5, 0);
      const halfOther = occludedFeatures(opened.method, tests, 16, NORMALIZE, 0.5, 1);
      expect(half.shape).toEqual(dense.shape);
      expect(tf.max(tf.abs(tf.sub(half, dense))).dataSync()[0]).toBeGreaterThan(1e-3);
      expect(half.dataSync()).toEqual(halfAgain.dataSync());
      expect(tf.max(tf.abs(tf.sub(half, halfOther))).dataSync()[0]).toBeGreaterThan(1e-4);
      tf.dispose([dense, all, half, halfAgain, halfOther]);
      expect(() => occludedFeatures(opened.method, tests, 16, NORMALIZE, 1, 0)).toThrow(/\[0, 1\)/);

      const acc = occlusionEval(opened.method, bank, tests, ds.numClasses, 16, NORMALIZE, { fractions: [0.25, 0.75], probeIterations: 20 });
      expect(Object.keys(acc)).toEqual(["0.25", "0.75"]);
      for (const v of Object.values(acc)) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        // Accuracies over 16 test images are multiples of 1/16.
        expect(Number.isInteger(Math.round(v * 16 * 1e6) / 1e6)).toBe(true);
      }
      expect(occlusionEval(opened.method, bank, tests, ds.numClasses, 16, NORMALIZE, { fractions: [0.25, 0.75], probeIterations: 20 })).toEqual(acc);
    } finally {
      opened.method.dispose();
      await ds.close?.();
    }
  });
});
