// Run (src/run.ts) on its own: creating and opening a run directory, its lock, its files and
// checkpoints, and the error a failed train throws. train's own tests cover the same through it.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { VIT_PRESETS } from "@dilemma/core";
import { listCheckpoints } from "../src/checkpoint.js";
import { selectEngine } from "../src/engine.js";
import { InputError, TrainError } from "../src/errors.js";
import type { RunConfig } from "../src/run-dir.js";
import { methodForRun, Run } from "../src/run.js";
import { tmpDir } from "./helpers.js";

/** A run config of the tests' tiny model (as train would write it, less the eval settings). */
function tinyConfig(seed = 3): RunConfig {
  return {
    version: 1, name: "r", method: "mocov3",
    model: { ...VIT_PRESETS.micro32, preset: "micro32", imgSize: 16, patchSize: 4, embedDim: 32, depth: 1, numHeads: 2 },
    dilemma: { tokenDrop: 0.75, dilemmaProb: 0.2, dilemmaWeight: 1 },
    data: { spec: "shapes", numClasses: 8, classNames: [] },
    optim: { lr: 1e-3, weightDecay: 0.05, warmupSteps: 1, batch: 8, steps: 6 },
    seed, engine: "cpu", createdAt: "2026-01-01T00:00:00.000Z",
    heads: { headHidden: 32, headOut: 16 }, stepsPerEpoch: 32, evalEvery: 1000, ckptEvery: 2, keepCheckpoints: 2,
  };
}

const lockPid = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, ".lock"), "utf8")).pid as number;
const statusKeys = (dir: string) => Object.keys(JSON.parse(fs.readFileSync(path.join(dir, "status.json"), "utf8")));
const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });

describe("Run", () => {
  it("create makes and locks a new directory; close unlocks it and removes it while still empty", () => {
    const dir = path.join(tmpDir("run-create"), "r");
    const run = Run.create(dir);
    expect(run.dir).toBe(path.resolve(dir));
    expect(lockPid(dir)).toBe(process.pid);
    expect(() => Run.create(dir)).toThrow(/in use by another dilemma-cli train/);
    expect(lockPid(dir)).toBe(process.pid); // the refused second create left the first one's lock
    run.close();
    expect(fs.existsSync(dir)).toBe(false);
    // A directory that was there before create() stays.
    fs.mkdirSync(dir);
    Run.create(dir).close();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("create refuses a directory that holds a run, and leaves it as it was", () => {
    const dir = path.join(tmpDir("run-exists"), "r");
    const run = Run.create(dir);
    run.writeConfig(tinyConfig());
    run.close();
    expect(fs.readdirSync(dir)).toEqual(["config.json"]);
    let err: unknown;
    try {
      Run.create(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`${path.resolve(dir)} already holds a run; continue it with --resume ${path.resolve(dir)}, or pick another --out`);
    expect(fs.readdirSync(dir)).toEqual(["config.json"]);
  });

  it("open and config() say what is wrong with a directory that is not a run", () => {
    const root = tmpDir("run-open");
    expect(() => Run.open(path.join(root, "nope"))).toThrow(/nope does not exist; pass a run directory/);
    expect(() => Run.open(root)).toThrow(/has no checkpoint \(no checkpoints.latest\.json\)/);
    expect(() => new Run(root).config()).toThrow(`${root} is not a run directory (no config.json); pass runs/<name> as written by dilemma-cli train`);
    // A run killed before its first checkpoint opens; only what needs a checkpoint fails.
    new Run(root).writeConfig(tinyConfig());
    const run = Run.open(root);
    expect(run.checkpointOrNull()).toBeNull();
    expect(() => run.checkpoint()).toThrow(/has no checkpoint/);
    expect(() => run.restore()).toThrow(/has no checkpoint/);
  });

  it("replaces config.json and status.json whole, and stamps the status", () => {
    const dir = tmpDir("run-files");
    const run = new Run(dir);
    expect(run.status()).toBeNull();
    run.writeConfig(tinyConfig());
    run.writeConfig({ ...tinyConfig(), seed: 9 });
    expect(run.config().seed).toBe(9);
    run.setStatus({ state: "running", step: 2, totalSteps: 6, engine: "cpu" });
    expect(run.status()).toMatchObject({ state: "running", step: 2, totalSteps: 6, engine: "cpu" });
    expect(statusKeys(dir)).toEqual(["state", "step", "totalSteps", "engine", "updatedAt"]);
    expect(fs.readdirSync(dir).sort()).toEqual(["config.json", "status.json"]); // no temporaries left
  });

  it("reads metrics past torn and foreign lines, and truncates them to a step", () => {
    const dir = tmpDir("run-metrics");
    const run = new Run(dir);
    expect(run.metrics()).toEqual([]);
    for (const step of [1, 2, 3]) run.appendMetrics({ kind: "eval", step, time: step });
    fs.appendFileSync(path.join(dir, "metrics.jsonl"), 'null\n[1]\n{"kind": "eval", "step": "4"}\n{"kind": "eval", "st');
    expect(run.metrics().map((m) => m.step)).toEqual([1, 2, 3]);
    run.truncateMetrics(2);
    expect(fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8")).toBe('{"kind":"eval","step":1,"time":1}\n{"kind":"eval","step":2,"time":2}\n');
    run.appendMetrics({ kind: "eval", step: 3, time: 5 });
    expect(run.metrics().map((m) => m.time)).toEqual([1, 2, 5]);
  });

  it("saves checkpoints whole, keeps the newest, and restores a checkpoint's weights", async () => {
    await selectEngine("cpu", { quiet: true });
    const dir = path.join(tmpDir("run-ckpt"), "r");
    const run = Run.create(dir);
    const trained = methodForRun(tinyConfig(3));
    try {
      run.writeConfig(tinyConfig(3));
      for (const step of [2, 4, 6]) {
        await run.saveCheckpoint(trained, { step, epoch: 0, rng: { seed: 3, counter: step }, dataCursor: { step }, extra: {} }, 2);
      }
      expect(listCheckpoints(path.join(dir, "checkpoints")).map((c) => c.step)).toEqual([4, 6]);
      expect(fs.readdirSync(path.join(dir, "checkpoints")).filter((d) => d.startsWith(".tmp-"))).toEqual([]);
      expect(run.checkpoint()).toMatchObject({ runDir: run.dir, step: 6 });

      // Another seed in config.json: restore() starts from other weights and must load the checkpoint's.
      run.writeConfig(tinyConfig(77));
      const opened = Run.open(path.join(dir, "checkpoints", "step-000004"));
      expect(opened.dir).toBe(run.dir);
      const r = opened.restore();
      const fresh = methodForRun(tinyConfig(77));
      try {
        expect(r).toMatchObject({ runDir: run.dir, step: 4, ckptDir: path.join(run.dir, "checkpoints", "step-000004") });
        const want = trained.getWeights(), got = r.method.getWeights(), other = fresh.getWeights();
        const name = "base_encoder.pos_embed";
        expect(Array.from(got[name].dataSync())).toEqual(Array.from(want[name].dataSync()));
        expect(Array.from(other[name].dataSync())).not.toEqual(Array.from(want[name].dataSync()));
        expect(run.loadCheckpoint(opened.checkpoint(), fresh, true).rng).toEqual({ seed: 3, counter: 4 });
        tf.dispose([...Object.values(want), ...Object.values(got), ...Object.values(other)]);
      } finally {
        r.method.dispose();
        fresh.dispose();
      }
    } finally {
      trained.dispose();
      run.close();
    }
  });

  it("failed() says a full disk plainly, records failures, and leaves a reported one as it is", () => {
    const dir = path.join(tmpDir("run-failed"), "r");
    const run = Run.create(dir);
    try {
      const at = { step: 0, totalSteps: 6, engine: "cpu" };
      const early = run.failed(enospc(), at);
      expect(early).toBeInstanceOf(TrainError);
      expect(early.message).toBe(`no space left on the disk of ${run.dir} (ENOSPC: no space left on device, write); training stopped. ` +
        `The last complete checkpoint is step 0 (none saved yet). Free some space, then continue with: dilemma-cli train --resume ${run.dir}`);
      expect(run.status()).toBeNull(); // no config.json yet: not a run to mark

      run.writeConfig(tinyConfig());
      const full = run.failed(enospc(), { ...at, step: 4 });
      expect(full.message).toMatch(/last complete checkpoint is step 4\. Free some space/);
      expect(run.status()).toMatchObject({ state: "failed", step: 4, totalSteps: 6, engine: "cpu", message: full.message });
      expect(statusKeys(dir)).toEqual(["state", "step", "totalSteps", "engine", "message", "updatedAt"]);

      const other = new Error("boom");
      expect(run.failed(other, at)).toBe(other);
      expect(run.status()?.message).toBe("boom");

      run.setStatus({ state: "failed", step: 2, totalSteps: 6, message: "loss became NaN", engine: "cpu" });
      const reported = new TrainError("loss became NaN");
      expect(run.failed(reported, at)).toBe(reported);
      expect(run.status()).toMatchObject({ step: 2, message: "loss became NaN" });
    } finally {
      run.close();
    }
  });
});
