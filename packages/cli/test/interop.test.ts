// Weights exchange with PyTorch / timm: export's model.safetensors and `train --init`; and the
// quiet library surface (no engine line with quiet, no tfjs banner from @dilemma/core).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it, vi } from "vitest";
import { decodeSafetensors } from "@dilemma/core";
import { main } from "../src/cli.js";
import { exportRun } from "../src/export.js";
import { initFromSafetensors } from "../src/init.js";
import { methodForRun, openRun, Run } from "../src/run.js";
import { train } from "../src/train.js";
import { loadWeights } from "../src/weights.js";
import { tmpDir, TINY } from "./helpers.js";

const values = (t: tf.Tensor) => Array.from(t.dataSync());

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe("safetensors export and train --init", () => {
  it("export's model.safetensors holds exactly model.json's tensors; --init starts both encoders and the head from it", async () => {
    const root = tmpDir("interop");
    const run = await train({ ...TINY, out: path.join(root, "run"), steps: 2 });
    await exportRun(run.runDir, path.join(root, "exp"));
    const file = path.join(root, "exp", "model.safetensors");
    const { tensors: st, metadata } = decodeSafetensors(fs.readFileSync(file));
    expect(metadata.format).toBe("pt");
    expect(JSON.parse(metadata.dilemma_vit)).toMatchObject({ imgSize: 16, patchSize: 4, embedDim: 32 });
    const { tensors: tj } = loadWeights(path.join(root, "exp", "model.json"));
    expect(Object.keys(st)).toEqual(Object.keys(tj));
    for (const n of Object.keys(tj)) expect(values(st[n])).toEqual(values(tj[n]));

    // A fresh method (another seed) initialised from the file computes the trained run's features.
    const src = openRun(run.runDir);
    const fresh = methodForRun({ ...new Run(run.runDir).config(), seed: 77 });
    const x = tf.randomNormal([2, 3, 16, 16], 0, 1, "float32", 9) as tf.Tensor4D;
    expect(values(fresh.features(x))).not.toEqual(values(src.method.features(x)));
    const r = initFromSafetensors(fresh, file);
    expect(r.message).toMatch(/encoder \(\d+ tensors\) and detection head/);
    expect(values(fresh.features(x))).toEqual(values(src.method.features(x)));
    const w = fresh.getWeights();
    for (const n of ["pos_embed", "blocks.0.mlp.fc2.weight"]) expect(values(w[`momentum_encoder.${n}`])).toEqual(values(st[n]));
    expect(values(w["dilemma_head.weight"])).toEqual(values(st["dilemma_head.weight"]));
    tf.dispose([x, ...Object.values(st), ...Object.values(tj)]);
    src.method.dispose();
    fresh.dispose();

    // Through the command line: the new run records where it started from.
    const io = captureIo();
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const code = await main(["train", ...["--data", "shapes:n=256,val=64", "--img-size", "16", "--patch", "4", "--embed-dim", "32", "--depth", "1",
      "--heads", "2", "--batch", "8", "--steps", "1", "--engine", "cpu", "--knn-bank", "0", "--head-hidden", "32", "--head-out", "16"],
    "--init", file, "--out", path.join(root, "b")], io.io);
    const progress = stderr.mock.calls.map((c) => String(c[0])).join("");
    stderr.mockRestore();
    expect(code).toBe(0);
    expect(progress).toMatch(/init: .*model\.safetensors: encoder/);
    expect(new Run(path.join(root, "b")).config().init).toEqual({ file, tensors: Object.keys(st).length });
  });

  it("bad --init input exits 2 naming the problem, before a run directory is made", async () => {
    const root = tmpDir("init-bad");
    const garbage = path.join(root, "x.safetensors");
    fs.writeFileSync(garbage, "not safetensors");
    for (const [file, why] of [[path.join(root, "nope.safetensors"), /no such file/], [garbage, /not a valid safetensors file/]] as const) {
      const io = captureIo();
      expect(await main(["train", "--engine", "cpu", "--data", "shapes:n=64,val=16", "--init", file, "--out", path.join(root, "r")], io.io)).toBe(2);
      expect(io.err.join("\n")).toMatch(why);
      expect(fs.existsSync(path.join(root, "r"))).toBe(false);
    }
    const io = captureIo();
    expect(await main(["train", "--resume", root, "--init", garbage], io.io)).toBe(2);
    expect(io.err.join("\n")).toMatch(/--init.*cannot be changed when resuming/);
  });
});

describe("quiet library use", () => {
  it("train({ quiet: true }) writes nothing to stdout or stderr", async () => {
    const write = { out: vi.spyOn(process.stdout, "write"), err: vi.spyOn(process.stderr, "write") };
    const logs = ["log", "warn", "error", "info"].map((m) => vi.spyOn(console, m as "log"));
    try {
      await train({ ...TINY, out: path.join(tmpDir("quiet"), "run"), steps: 1, engine: "auto" });
      expect(write.out).not.toHaveBeenCalled();
      expect(write.err).not.toHaveBeenCalled();
      for (const l of logs) expect(l).not.toHaveBeenCalled();
    } finally {
      for (const s of [write.out, write.err, ...logs]) s.mockRestore();
    }
  });

  it("@dilemma/core silences tfjs's Node banner (DILEMMA_TFJS_WARNINGS=1 keeps it)", () => {
    const script = "import('@tensorflow/tfjs-core').then(async (tf) => { await import('@dilemma/core'); await import('@tensorflow/tfjs-backend-cpu');" +
      " await tf.setBackend('cpu'); tf.tensor([1, 2]).dataSync(); })";
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ...env } });
    const quiet = run({ DILEMMA_TFJS_WARNINGS: "" });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr + quiet.stdout).toBe("");
    expect(run({ DILEMMA_TFJS_WARNINGS: "1" }).stderr).toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
  });
});
