import { describe, expect, it } from "vitest";
import { IMAGENET_MEAN, flattenConfig, normalizePixels, parseConfig } from "../src/lib/config.js";
import { chartData, CHARTS } from "../src/lib/series.js";
import { candidateSteps, modeFromSearch } from "../src/lib/source.js";

const runConfig = {
  method: "mocov3",
  model: { preset: "micro32", imgSize: 32, patchSize: 4, inChans: 3, embedDim: 96, depth: 4, numHeads: 3, mlpRatio: 4, posEmbed: "learned" },
  dilemma: { tokenDrop: 0.5, dilemmaProb: 0.3 },
  data: { classNames: ["a", "b"] },
};

describe("parseConfig", () => {
  it("reads a run config with ImageNet normalisation by default", () => {
    const c = parseConfig(runConfig);
    expect(c.model.embedDim).toBe(96);
    expect(c.tokenDrop).toBe(0.5);
    expect(c.mean).toEqual(IMAGENET_MEAN);
    expect(c.classNames).toEqual(["a", "b"]);
  });
  it("honours the config's own mean/std and a flat (export) layout", () => {
    const c = parseConfig({ ...runConfig.model, data: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } });
    expect(c.model.depth).toBe(4);
    expect(c.mean).toEqual([0.5, 0.5, 0.5]);
  });
  it("reads a `dilemma-cli export` config (vit + normalize)", () => {
    const c = parseConfig({ format: "dilemma-export", vit: runConfig.model, preset: "micro32", dilemma: runConfig.dilemma,
      normalize: { mean: [0.1, 0.2, 0.3], std: [1, 1, 1] } });
    expect(c.model.embedDim).toBe(96);
    expect(c.preset).toBe("micro32");
    expect(c.mean).toEqual([0.1, 0.2, 0.3]);
  });
  it("names the missing field", () => {
    expect(() => parseConfig({ model: { imgSize: 32 } })).toThrow(/model.patchSize/);
  });
  it("flattens nested keys", () => {
    expect(flattenConfig({ a: { b: 1 }, c: [1, 2] })).toEqual([["a.b", "1"], ["c", "1, 2"]]);
  });
});

describe("normalizePixels", () => {
  it("produces CHW floats", () => {
    const rgba = [255, 0, 51, 255, 0, 255, 0, 255, 0, 0, 0, 255, 255, 255, 255, 255];
    const out = normalizePixels(rgba, 2, [0, 0, 0], [1, 1, 0.5]);
    expect([...out.slice(0, 4)]).toEqual([1, 0, 0, 1]);
    expect(out[8]).toBeCloseTo(0.4);
  });
});

describe("chartData", () => {
  it("aligns train and eval series on step with nulls and last-write-wins", () => {
    const det = CHARTS.find((c) => c.id === "detection")!;
    const data = chartData(det, [
      { kind: "train", step: 0, detAcc: 0.5 },
      { kind: "eval", step: 10, detAcc: 0.7, detChance: 0.8, detBalAcc: 0.55, detAuroc: 0.8 },
      { kind: "train", step: 10, detAcc: 0.6 },
      { kind: "train", step: 10, detAcc: 0.65 },
    ]);
    // train acc, train AUROC, eval acc, its chance level, eval balanced acc, eval AUROC
    expect(data).toEqual([[0, 10], [0.5, 0.65], [null, null], [null, 0.7], [null, 0.8], [null, 0.55], [null, 0.8]]);
  });
});

describe("modeFromSearch", () => {
  it("distinguishes export weights, static run folders and run ids", () => {
    expect(modeFromSearch("?weights=https://x/exp")).toEqual({ kind: "weights", url: "https://x/exp/" });
    expect(modeFromSearch("?run=./runs/a")).toEqual({ kind: "run", url: "./runs/a/" });
    expect(modeFromSearch("?run=my-run")).toEqual({ kind: "server" });
  });
});

describe("candidateSteps", () => {
  it("lists ckptEvery multiples up to the total, the total and eval steps, newest first", () => {
    expect(candidateSteps({ ckptEvery: 10, optim: { steps: 35 } }, undefined, [5, 20])).toEqual([35, 30, 20, 10, 5]);
    expect(candidateSteps({ ckptEvery: 1 }, 100, [], 3)).toEqual([100, 99, 98]);
    expect(candidateSteps({}, undefined, [0, 7])).toEqual([7]);
  });
});
