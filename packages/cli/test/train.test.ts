import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { listCheckpoints, resolveCheckpoint } from "../src/checkpoint.js";
import { evaluate } from "../src/run-eval.js";
import { train, TrainError } from "../src/train.js";
import { readJsonl, tmpDir, TINY } from "./helpers.js";

const evalLines = (dir: string) => readJsonl(path.join(dir, "metrics.jsonl")).filter((m) => m.kind === "eval").map(({ time: _t, trainTime: _tt, ...m }) => m); // clocks differ between runs
const configOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
const trainLosses = (dir: string) => readJsonl(path.join(dir, "metrics.jsonl")).filter((m) => m.kind === "train").map((m) => [m.step, m.loss]);

describe("train", () => {
  it("writes the run format, and a resumed run reproduces the uninterrupted losses", async () => {
    const root = tmpDir("resume");
    const full = await train({ ...TINY, out: path.join(root, "full") });
    expect(full.state).toBe("done");
    expect(full.losses).toHaveLength(6);
    const a = full.runDir;
    for (const f of ["config.json", "status.json", "metrics.jsonl", "samples/index.json", "samples/000.png", "checkpoints/latest.json"]) {
      expect(fs.existsSync(path.join(a, f)), f).toBe(true);
    }
    const latest = JSON.parse(fs.readFileSync(path.join(a, "checkpoints/latest.json"), "utf8"));
    expect(latest).toEqual({ step: 6, dir: "step-000006" });
    for (const f of ["model.json", "weights.bin", "optimizer.json", "optimizer.bin", "state.json"]) {
      expect(fs.existsSync(path.join(a, "checkpoints/step-000006", f)), f).toBe(true);
    }
    const model = JSON.parse(fs.readFileSync(path.join(a, "checkpoints/step-000006/model.json"), "utf8"));
    const names: string[] = model.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(names).toContain("base_encoder.pos_embed");
    expect(names).toContain("dilemma_head.weight");
    expect(names.some((n) => n.startsWith("momentum_encoder."))).toBe(true);
    // keep 3: steps 2, 4, 6
    expect(listCheckpoints(path.join(a, "checkpoints")).map((c) => c.step)).toEqual([2, 4, 6]);
    const status = JSON.parse(fs.readFileSync(path.join(a, "status.json"), "utf8"));
    expect(status).toMatchObject({ state: "done", step: 6, totalSteps: 6 });
    const evals = readJsonl(path.join(a, "metrics.jsonl")).filter((m) => m.kind === "eval");
    expect(evals.at(-1)).toMatchObject({ step: 6 });
    expect(typeof evals.at(-1)!.knnAcc).toBe("number");
    expect(full.detAuroc).toBeGreaterThanOrEqual(0);

    // Interrupted after step 3 (checkpoint at 2, then a stop checkpoint at 3), then resumed.
    const part = await train({ ...TINY, out: path.join(root, "part"), stopAfter: 3 });
    expect(part).toMatchObject({ state: "stopped", step: 3 });
    expect(JSON.parse(fs.readFileSync(path.join(part.runDir, "status.json"), "utf8")).state).toBe("stopped");
    const resumed = await train({ resume: part.runDir, quiet: true, engine: "cpu", workers: 0 });
    expect(resumed.state).toBe("done");
    expect(resumed.losses.map((l) => l.step)).toEqual([4, 5, 6]);
    expect(resumed.losses.map((l) => l.loss)).toEqual(full.losses.slice(3).map((l) => l.loss));
    // The resumed run's metrics read as one run: each step once, same losses.
    expect(trainLosses(part.runDir)).toEqual(trainLosses(a));
    // ... and it evaluates as the run was set up (config.json's eval), not with the defaults.
    expect(configOf(a).eval).toEqual({ bank: 32, queries: 16, k: 20, seed: 0, probeIterations: 300 });
    expect(configOf(part.runDir).eval).toEqual(configOf(a).eval);
    expect(evalLines(part.runDir)).toEqual(evalLines(a));
    expect(evalLines(a).at(-1)).toHaveProperty("detChance");
  });

  it("keeps a run's eval settings: a resume asking for others is refused", async () => {
    const root = tmpDir("resume-eval");
    const part = await train({ ...TINY, out: path.join(root, "r"), knnK: 5, evalSeed: 9, stopAfter: 2 });
    expect(configOf(part.runDir).eval).toMatchObject({ bank: 32, queries: 16, k: 5, seed: 9 });
    await expect(train({ resume: part.runDir, quiet: true, engine: "cpu", workers: 0, knnBank: 64 }))
      .rejects.toThrow(/--knn-bank 64: a resumed run keeps its eval settings \(config.json has 32\)/);
    await expect(train({ resume: part.runDir, quiet: true, engine: "cpu", workers: 0, evalSeed: 1 })).rejects.toThrow(/--eval-seed 1/);
    // eval reuses them too
    const r = await evaluate({ target: part.runDir, probeIterations: 5 });
    expect(r.settings).toEqual({ trainImages: 32, testImages: 16, k: 5, seed: 9, probeIterations: 5 });
    expect(r.numTest).toBe(16);
  });

  it("resumes exactly on the native engine too (when its addon is built)", async (ctx) => {
    const native = await import("@dilemma/native").catch(() => null);
    if (!native?.isAvailable()) return ctx.skip();
    const root = tmpDir("resume-native");
    const T = { ...TINY, engine: "native" as const };
    const full = await train({ ...T, out: path.join(root, "full") });
    const part = await train({ ...T, out: path.join(root, "part"), stopAfter: 3 });
    const resumed = await train({ resume: part.runDir, quiet: true, engine: "native", workers: 0 });
    expect(resumed.engine).toBe("native");
    expect(resumed.losses.map((l) => l.loss)).toEqual(full.losses.slice(3).map((l) => l.loss));
  });

  it("stops on a non-finite loss with a clear message and the last good checkpoint intact", async () => {
    const out = path.join(tmpDir("nan"), "run");
    const err = await train({ ...TINY, out, injectNaNAtStep: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainError);
    expect((err as Error).message).toMatch(/loss became NaN at step 5 .*last good checkpoint is step 4.*--resume \S+ --lr 0\.0005/);
    const status = JSON.parse(fs.readFileSync(path.join(out, "status.json"), "utf8"));
    expect(status).toMatchObject({ state: "failed", step: 4 });
    expect(resolveCheckpoint(out).step).toBe(4);
    // Nothing from the failed step was logged, and the checkpoint still resumes.
    expect(trainLosses(out).map(([s]) => s)).toEqual([1, 2, 3, 4]);
    const r = await train({ resume: out, quiet: true, engine: "cpu", workers: 0 });
    expect(r.state).toBe("done");
    expect(r.losses.every((l) => Number.isFinite(l.loss))).toBe(true);
  });

  it("refuses to overwrite a run and explains how to continue it", async () => {
    const out = path.join(tmpDir("exists"), "run");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "config.json"), "{}");
    await expect(train({ ...TINY, out })).rejects.toThrow(/already holds a run; continue it with --resume/);
  });

  it("records the augmentation: the data set's defaults under the flags, the recipe's where neither says", async () => {
    const cfgOf = async (o: Parameters<typeof train>[0]) => {
      const run = await train({ ...TINY, steps: 1, ckptEvery: 1, knnBank: 0, knnQueries: 0, out: path.join(tmpDir("aug"), "r"), ...o });
      return JSON.parse(fs.readFileSync(path.join(run.runDir, "config.json"), "utf8")).augment;
    };
    expect(await cfgOf({})).toEqual({ cropScale: [0.08, 1], flip: true, colorJitter: true });
    const scenes = await cfgOf({ data: "scenes:n=64,val=16" });
    expect(scenes.cropScale[0]).toBeGreaterThan(0.08);
    expect(await cfgOf({ data: "scenes:n=64,val=16", cropScale: [0.5, 0.9], flip: false, colorJitter: false }))
      .toEqual({ cropScale: [0.5, 0.9], flip: false, colorJitter: false });
    await expect(train({ ...TINY, cropScale: [0, 1], out: path.join(tmpDir("aug"), "r") })).rejects.toThrow(/--crop-scale: .*0 < min <= max <= 1/);
  });

  it("rejects an unknown preset listing the known ones", async () => {
    await expect(train({ ...TINY, model: "giant", out: path.join(tmpDir("preset"), "r") })).rejects.toThrow(/--model giant: unknown preset; allowed: .*micro32/);
  });

  it("evaluates a run: kNN, linear probe and detection in [0, 1]", async () => {
    const run = await train({ ...TINY, out: path.join(tmpDir("eval"), "run"), steps: 2 });
    const r = await evaluate({ target: run.runDir, trainImages: 32, testImages: 16, probeIterations: 20, seed: 1 });
    expect(r.step).toBe(2);
    for (const v of [r.knnAcc!, r.linearProbeAcc!, r.detection!.accuracy, r.detection!.auroc]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // Same seed, same corruptions, same numbers.
    const again = await evaluate({ target: run.runDir, trainImages: 32, testImages: 16, probeIterations: 20, seed: 1 });
    expect(again.detection).toEqual(r.detection);
  });
});
