import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../src/atomic.js";
import { listCheckpoints, resolveCheckpoint } from "../src/checkpoint.js";
import { train } from "../src/train.js";
import { tmpDir, TINY } from "./helpers.js";

describe("atomic checkpoints", () => {
  it("an interrupted checkpoint write leaves the previous checkpoint usable", async () => {
    const out = path.join(tmpDir("atomic"), "run");
    await train({ ...TINY, out, steps: 6, stopAfter: 4 });
    const root = path.join(out, "checkpoints");
    // What a crash mid-save leaves behind: a half-written temporary directory of the next step
    // with a truncated weights file, and a stray temporary file next to latest.json.
    const tmp = path.join(root, ".tmp-step-000006-999999");
    fs.mkdirSync(tmp);
    fs.copyFileSync(path.join(root, "step-000004", "model.json"), path.join(tmp, "model.json"));
    fs.writeFileSync(path.join(tmp, "weights.bin"), Buffer.alloc(10));
    fs.writeFileSync(path.join(root, ".latest.json.tmp-999999-0"), '{"step": 6, "di');
    // A step directory without state.json (never published) is not a checkpoint either.
    fs.mkdirSync(path.join(root, "step-000008"));
    expect(resolveCheckpoint(out)).toMatchObject({ step: 4 });
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2, 4]);
    // latest.json pointing at a vanished directory: fall back to the newest complete one.
    fs.writeFileSync(path.join(root, "latest.json"), JSON.stringify({ step: 8, dir: "step-000008" }));
    expect(resolveCheckpoint(out)).toMatchObject({ step: 4 });

    const r = await train({ resume: out, quiet: true, engine: "cpu", workers: 0 });
    expect(r).toMatchObject({ state: "done", step: 6 });
    expect(fs.existsSync(tmp)).toBe(false); // stale temporaries are cleaned up by the next save
    expect(JSON.parse(fs.readFileSync(path.join(root, "latest.json"), "utf8"))).toEqual({ step: 6, dir: "step-000006" });
  });

  it("writeFileAtomic replaces whole files and leaves no temporaries", () => {
    const dir = tmpDir("atomicfile");
    const f = path.join(dir, "a.json");
    writeFileAtomic(f, "one");
    writeFileAtomic(f, "two");
    expect(fs.readFileSync(f, "utf8")).toBe("two");
    expect(fs.readdirSync(dir)).toEqual(["a.json"]);
    expect(() => writeFileAtomic(path.join(dir, "missing", "b.json"), "x")).toThrow();
    expect(fs.readdirSync(dir)).toEqual(["a.json"]);
  });

  it("--resume accepts a checkpoint directory and continues from that step", async () => {
    const out = path.join(tmpDir("resume-ckpt"), "run");
    const full = await train({ ...TINY, out });
    const r = await train({ resume: path.join(out, "checkpoints", "step-000004"), quiet: true, engine: "cpu", workers: 0 });
    expect(r.losses.map((l) => l.step)).toEqual([5, 6]);
    expect(r.losses.map((l) => l.loss)).toEqual(full.losses.slice(4).map((l) => l.loss));
  });

  it("--resume of a run killed before its first checkpoint starts it again from step 0, exactly", async () => {
    const root = tmpDir("resume-none");
    const full = await train({ ...TINY, out: path.join(root, "full"), steps: 3, ckptEvery: 100 });
    const out = path.join(root, "run");
    await train({ ...TINY, out, steps: 3, ckptEvery: 100, stopAfter: 2 });
    fs.rmSync(path.join(out, "checkpoints"), { recursive: true }); // as if killed before saving
    const r = await train({ resume: out, quiet: true, engine: "cpu", workers: 0 });
    expect(r.losses.map((l) => l.loss)).toEqual(full.losses.map((l) => l.loss));
  });
});
