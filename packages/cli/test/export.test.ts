import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { DetectionHead, ViT } from "@dilemma/core";
import sharp from "sharp";
import { detect } from "../src/detect.js";
import { exportRun } from "../src/export.js";
import { openRun } from "../src/run.js";
import { loadWeights } from "../src/weights.js";
import { train } from "../src/train.js";
import { tmpDir, TINY } from "./helpers.js";

describe("export and detect", () => {
  it("exports the encoder + detection head with timm names that reproduce the run's features", async () => {
    const root = tmpDir("export");
    const run = await train({ ...TINY, out: path.join(root, "run"), steps: 2 });
    const cfg = await exportRun(run.runDir, path.join(root, "exp"));
    expect(cfg).toMatchObject({ format: "dilemma-export", hasDilemmaHead: true, source: { step: 2 } });
    const { tensors } = loadWeights(path.join(root, "exp", "model.json"));
    const names = Object.keys(tensors);
    expect(names).toContain("pos_embed");
    expect(names).toContain("blocks.0.attn.qkv.weight");
    expect(names).toContain("dilemma_head.weight");
    expect(names.some((n) => n.includes("base_encoder") || n.includes("momentum") || n.startsWith("head."))).toBe(false);
    const saved = JSON.parse(fs.readFileSync(path.join(root, "exp", "config.json"), "utf8"));
    const vit = new ViT(saved.vit, { seed: 99 });
    vit.setWeights(tensors);
    const head = new DetectionHead(saved.vit.embedDim, { seed: 99 });
    head.setWeights(tensors, "dilemma_head.");
    const opened = openRun(run.runDir);
    const x = tf.randomNormal([2, 3, 16, 16], 0, 1, "float32", 7) as tf.Tensor4D;
    const a = opened.method.features(x);
    const b = vit.forward(x).cls;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b, ...Object.values(tensors)]);
    opened.method.dispose();
    vit.dispose();
  });

  it("writes a heatmap PNG and JSON per image; --swap marks exactly the two swapped patches", async () => {
    const root = tmpDir("detect");
    const run = await train({ ...TINY, out: path.join(root, "run"), steps: 2 });
    const imgs = path.join(root, "imgs");
    fs.mkdirSync(imgs);
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toFile(path.join(imgs, "a.png"));
    await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 90, b: 200, alpha: 1 } } }).png().toFile(path.join(imgs, "b.png"));
    const { results: res } = await detect({ target: run.runDir, input: imgs, out: path.join(root, "out"), swap: [1, 6] });
    expect(res).toHaveLength(2);
    for (const r of res) {
      expect(r.grid).toBe(4);
      expect(r.corrupted.filter((c) => c === 1).length).toBe(2);
      expect(r.corrupted[1]).toBe(1);
      expect(r.corrupted[6]).toBe(1);
      expect(r.probs.every((p) => p !== null && p >= 0 && p <= 1)).toBe(true);
      const meta = await sharp(r.png).metadata();
      expect(meta.width).toBe(256);
      expect(JSON.parse(fs.readFileSync(r.json, "utf8")).inputPos[1]).toBe(6);
    }
    // Seeded sampling: dropped patches are null; the same seed reproduces the same result.
    const { results: s1 } = await detect({ target: run.runDir, input: path.join(imgs, "a.png"), out: path.join(root, "s1"), seed: 5 });
    const { results: s2 } = await detect({ target: run.runDir, input: path.join(imgs, "a.png"), out: path.join(root, "s2"), seed: 5 });
    expect(s1[0].probs.filter((p) => p === null).length).toBe(12); // 16 patches, 4 kept
    expect(s2[0].probs).toEqual(s1[0].probs);
    await expect(detect({ target: run.runDir, input: imgs, swap: [1, 16] })).rejects.toThrow(/--swap 1,16: patch index 16 out of \[0, 16\)/);
  });
});
