import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { VIT_PRESETS, ViT, residual, sampleDilemma, sampleToTensors, type ViTConfig } from "../../src/index.js";
import { listCases, loadCase, vitConfigOf } from "../util/fixtures.js";

const small: ViTConfig = { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 32, depth: 2, numHeads: 4, mlpRatio: 4 };
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe("ViT", () => {
  // Each vit_dilemma fixture's model is built from its own config (any sizes the reference wrote).
  const vitCases = listCases().filter((c) => c.kind === "vit_dilemma");
  it("finds vit_dilemma fixtures", () => expect(vitCases.length).toBeGreaterThan(0));
  for (const fx of vitCases) {
    it(`names its parameters as timm's state_dict, in the same order and shapes (${fx.name})`, () => {
      const c = loadCase(fx.dir);
      const timm = c.names.filter((n) => !n.includes("/") && !n.startsWith("dilemma_head."));
      const vit = new ViT(vitConfigOf(c.manifest.config.vit));
      expect([...vit.params.keys()]).toEqual(timm);
      for (const n of timm) expect(vit.params.get(n)!.shape).toEqual(c.shape(n));
      vit.dispose();
    });
  }

  it("initialises deterministically per seed, timm-like", () => {
    const a = new ViT(small, { seed: 1 });
    const b = new ViT(small, { seed: 1 });
    const c = new ViT(small, { seed: 2 });
    for (const [n, v] of a.params) expect(maxDiff(v, b.params.get(n)!), n).toBe(0);
    expect(maxDiff(a.params.get("blocks.0.attn.qkv.weight")!, c.params.get("blocks.0.attn.qkv.weight")!)).toBeGreaterThan(0);
    const qkv = a.params.get("blocks.1.mlp.fc1.weight")!;
    const std = tf.tidy(() => Math.sqrt(tf.moments(qkv).variance.dataSync()[0]));
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.02);
    expect(tf.tidy(() => tf.max(tf.abs(qkv)).dataSync()[0])).toBeLessThanOrEqual(0.04 + 1e-6);
    expect(Array.from(a.params.get("blocks.0.norm1.weight")!.dataSync()).every((v) => v === 1)).toBe(true);
    expect(Array.from(a.params.get("blocks.0.attn.qkv.bias")!.dataSync()).every((v) => v === 0)).toBe(true);
    expect([...a.params.values()].every((v) => v.trainable)).toBe(true);
    const frozen = new ViT(small, { trainable: false });
    expect([...frozen.params.values()].some((v) => v.trainable)).toBe(false);
    [a, b, c, frozen].forEach((m) => m.dispose());
  });

  it("patchEmbed is Conv2d(kernel p, stride p) with an OIHW weight, patches row-major", () => {
    const vit = new ViT(small, { seed: 3 });
    tf.tidy(() => {
      const img = tf.randomNormal([2, 3, 16, 16], 0, 1, "float32", 1) as tf.Tensor4D;
      const w = vit.params.get("patch_embed.proj.weight")!;
      const conv = tf.conv2d(tf.transpose(img, [0, 2, 3, 1]) as tf.Tensor4D, tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D, 4, "valid");
      const ref = tf.reshape(tf.add(conv, vit.params.get("patch_embed.proj.bias")!), [2, 16, 32]);
      expect(maxDiff(vit.patchEmbed(img), ref)).toBeLessThan(1e-5);
    });
    vit.dispose();
  });

  it("forward: dense gives 1+L tokens, DILEMMA 1+K; cls and patches slice the tokens", () => {
    const vit = new ViT(small, { seed: 4 });
    tf.tidy(() => {
      const img = tf.randomNormal([3, 3, 16, 16], 0, 1, "float32", 2) as tf.Tensor4D;
      const dense = vit.forward(img);
      expect(dense.tokens.shape).toEqual([3, 17, 32]);
      expect(dense.cls.shape).toEqual([3, 32]);
      expect(dense.patches.shape).toEqual([3, 16, 32]);
      expect(maxDiff(dense.cls, tf.reshape(tf.slice(dense.tokens, [0, 0, 0], [3, 1, 32]), [3, 32]))).toBe(0);
      const s = sampleDilemma({ batch: 3, numPatches: 16, tokenDrop: 0.75, dilemmaProb: 0.5, rng: { seed: 1, counter: 0 } });
      const { realPos, inputPos } = sampleToTensors(s);
      const sparse = vit.forward(img, { realPos, inputPos });
      expect(sparse.tokens.shape).toEqual([3, 5, 32]);
      expect(sparse.patches.shape).toEqual([3, 4, 32]);
    });
    vit.dispose();
  });

  it("the DILEMMA path with identity positions equals the dense path; permuting them permutes the outputs", () => {
    const vit = new ViT(small, { seed: 5 });
    tf.tidy(() => {
      const img = tf.randomNormal([2, 3, 16, 16], 0, 1, "float32", 3) as tf.Tensor4D;
      const dense = vit.forward(img);
      const id = tf.tile(tf.reshape(tf.range(0, 16, 1, "int32"), [1, 16]), [2, 1]) as tf.Tensor2D;
      expect(maxDiff(vit.forward(img, { realPos: id, inputPos: id }).tokens, dense.tokens)).toBeLessThan(1e-5);
      // Attention is permutation-equivariant: the same (content, position) pairs in another order.
      const perm = [3, 0, 15, 7, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14];
      const p = tf.tensor2d([perm, perm], [2, 16], "int32");
      const permuted = vit.forward(img, { realPos: p, inputPos: p });
      expect(maxDiff(permuted.patches, tf.gather(dense.patches, p, 1, 1))).toBeLessThan(1e-5);
      expect(maxDiff(permuted.cls, dense.cls)).toBeLessThan(1e-5);
    });
    vit.dispose();
  });

  it("forward leaks no tensors", () => {
    const vit = new ViT(small);
    const img = tf.randomNormal([1, 3, 16, 16]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const out = vit.forward(img);
    tf.dispose([out.tokens, out.cls, out.patches]);
    expect(tf.memory().numTensors).toBe(before);
    img.dispose();
    vit.dispose();
  });

  it("getWeights / setWeights round-trip with a prefix and fail clearly", () => {
    const a = new ViT(small, { seed: 6 });
    const b = new ViT(small, { seed: 7 });
    const named = a.getWeights("base_encoder.");
    expect(Object.keys(named)[0]).toBe("base_encoder.cls_token");
    b.setWeights({ ...named, "base_encoder.head.0.weight": tf.zeros([1]) }, "base_encoder.");
    for (const [n, v] of a.params) expect(maxDiff(v, b.params.get(n)!)).toBe(0);
    const { ["base_encoder.norm.bias"]: _gone, ...missing } = named;
    expect(() => b.setWeights(missing, "base_encoder.")).toThrow(/missing "base_encoder.norm.bias"/);
    const wrong = { ...named, "base_encoder.pos_embed": tf.zeros([1, 15, 32]) };
    expect(() => b.setWeights(wrong, "base_encoder.")).toThrow(/"base_encoder.pos_embed" has shape \[1,15,32\], expected \[1,16,32\]/);
    a.dispose();
    b.dispose();
  });

  it("sincos positional embedding is fixed and 2-D", () => {
    const vit = new ViT({ ...small, posEmbed: "sincos" });
    const pos = vit.params.get("pos_embed")!;
    expect(pos.trainable).toBe(false);
    const v = pos.dataSync();
    // patch 0 = (row 0, col 0): sin 0 = 0, cos 0 = 1 in each quarter
    expect(Array.from(v.subarray(0, 32))).toEqual([...Array(8).fill(0), ...Array(8).fill(1), ...Array(8).fill(0), ...Array(8).fill(1)]);
    // patch 1 = (0, 1): column quarter, first frequency sin(1)
    expect(v[32]).toBeCloseTo(Math.sin(1), 6);
    // patch 4 = (1, 0): row quarter
    expect(v[4 * 32 + 16]).toBeCloseTo(Math.sin(1), 6);
    vit.dispose();
  });

  it("validates config and image shape", () => {
    expect(() => new ViT({ ...small, imgSize: 18 })).toThrow(/multiple of patchSize/);
    expect(() => new ViT({ ...small, numHeads: 5 })).toThrow(/divisible by numHeads/);
    const vit = new ViT(small);
    expect(() => vit.forward(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D)).toThrow(/NCHW \[B, 3, 16, 16\]/);
    vit.dispose();
  });

  it("presets have the documented shapes", () => {
    expect(VIT_PRESETS["vit-small"]).toMatchObject({ imgSize: 224, patchSize: 16, embedDim: 384, depth: 12, numHeads: 6 });
    expect(VIT_PRESETS.micro32).toMatchObject({ imgSize: 32, patchSize: 4, embedDim: 96, depth: 4, numHeads: 3 });
    const m = new ViT(VIT_PRESETS.micro32);
    expect(m.numPatches).toBe(64);
    const out = m.forward(tf.zeros([1, 3, 32, 32]) as tf.Tensor4D);
    expect(out.tokens.shape).toEqual([1, 65, 96]);
    m.dispose();
  });
});

describe("residual", () => {
  it("has tf.add's value and gradients, leaks nothing, and keeps the two gradients apart", () => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, "float32", 1);
    const w = tf.randomNormal([2, 3, 4], 0, 1, "float32", 2);
    // b is computed before x's other consumer (t): the order in which a shared gradient tensor
    // would be disposed while b's producer still needs it
    const loss = (sum: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (xx: tf.Tensor, ww: tf.Tensor) => {
      const b = tf.mul(ww, 2);
      const t = tf.square(xx);
      return tf.sum(tf.mul(sum(xx, b), tf.add(t, 1))) as tf.Scalar;
    };
    const before = tf.memory().numTensors;
    const got = tf.grads(loss(residual))([x, w]);
    const want = tf.grads(loss((a, b) => tf.add(a, b)))([x, w]);
    got.forEach((g, i) => expect(Array.from(g.dataSync())).toEqual(Array.from(want[i].dataSync())));
    tf.dispose([...got, ...want]);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(residual(x, w).dataSync())).toEqual(Array.from(tf.add(x, w).dataSync()));
    expect(() => tf.grad((xx: tf.Tensor) => tf.sum(residual(xx, tf.ones([3]))))(x)).toThrow(/shapes differ/);
    tf.dispose([x, w]);
  });
});
