// The run directory under faults: a metrics.jsonl with non-record lines, a non-finite loss
// followed by a resume at a lower learning rate, and a checkpoint folder removed mid-run.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { resolveCheckpoint } from "../../src/checkpoint.js";
import { train, TrainError } from "../../src/train.js";
import { readJsonl, TINY, tmpDir } from "../helpers.js";

const quiet = { out: () => undefined, err: () => undefined };

describe("metrics.jsonl with lines that are JSON but not records", () => {
  it("null (and 3, [], text, a bad step, {}) does not block --resume", async () => {
    const out = path.join(tmpDir("metrics-null"), "run");
    await train({ ...TINY, out, stopAfter: 2 });
    for (const junk of ["null", "3", "[]", '"text"', '{"kind":"train","step":"x"}', "{}"]) fs.appendFileSync(path.join(out, "metrics.jsonl"), `${junk}\n`);
    const r = await train({ resume: out, quiet: true, engine: "cpu", workers: 0 });
    expect(r.state).toBe("done");
    const steps = readJsonl(path.join(out, "metrics.jsonl")).filter((m) => m && m.kind === "train").map((m) => m.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("a non-finite loss, then --resume with a lower --lr", () => {
  it("the advice in the message works, and the change is recorded in config.json", async () => {
    const out = path.join(tmpDir("nan-lr"), "run");
    const err = await train({ ...TINY, out, steps: 8, injectNaNAtStep: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainError);
    const msg = (err as Error).message;
    expect(msg).toContain(`dilemma-cli train --resume ${out} --lr 0.0005`);
    expect(JSON.parse(fs.readFileSync(path.join(out, "status.json"), "utf8")).state).toBe("failed");
    // Exactly what the message says, through the cli.
    const code = await main(["train", "--resume", out, "--lr", "0.0005", "--quiet", "--engine", "cpu", "--workers", "0"], quiet);
    expect(code).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
    expect(cfg.optim.lr).toBe(0.0005);
    expect(cfg.optim.lrChanges).toEqual([{ step: 4, from: 0.001, to: 0.0005, time: expect.any(String) }]);
    const lines = readJsonl(path.join(out, "metrics.jsonl")).filter((m) => m.kind === "train");
    expect(lines.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // After the change every step's rate is at most the new peak (before it, the old schedule).
    expect(lines.filter((m) => (m.step as number) > 4).every((m) => (m.lr as number) <= 0.0005 + 1e-12)).toBe(true);
    expect(Math.max(...lines.filter((m) => (m.step as number) <= 4).map((m) => m.lr as number))).toBeGreaterThan(0.0005);
    expect(JSON.parse(fs.readFileSync(path.join(out, "status.json"), "utf8")).state).toBe("done");
  });

  it("--resume still refuses options other than --lr and run-time flags (exit 2)", async () => {
    let e = "";
    const code = await main(["train", "--resume", "x", "--batch", "4"], { out: () => undefined, err: (s) => { e += s; } });
    expect(code).toBe(2);
    expect(e).toMatch(/--batch: cannot be changed when resuming/);
  });
});

describe("the checkpoints folder removed mid-run", () => {
  it("later checkpoints are written again and the run resumes from them", async () => {
    const out = path.join(tmpDir("ckpt-removed"), "run");
    const ck = path.join(out, "checkpoints");
    let removed = 0;
    // Between steps (every step yields to the event loop): remove the folder once it holds step 2.
    const timer = setInterval(() => {
      if (removed === 0 && fs.existsSync(path.join(ck, "step-000002", "state.json"))) {
        fs.rmSync(ck, { recursive: true, force: true });
        removed++;
      }
    }, 1);
    try {
      const r = await train({ ...TINY, out, steps: 12, ckptEvery: 2, stopAfter: 8 });
      expect(r.state).toBe("stopped");
    } finally {
      clearInterval(timer);
    }
    expect(removed).toBe(1);
    expect(resolveCheckpoint(out).step).toBe(8);
    const r2 = await train({ resume: out, quiet: true, engine: "cpu", workers: 0 });
    expect(r2).toMatchObject({ state: "done", step: 12 });
  });
});
