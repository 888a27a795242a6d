import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { numKept, sampleDilemma, sampleToTensors } from "../../src/model/index.js";
import { createMethod } from "../../src/train/create.js";
import { MoCoV3 } from "../../src/train/mocov3.js";
import { momentumAt } from "../../src/train/schedule.js";
import { images, rngAt, tinyConfig } from "./tiny.js";

const B = 4;
const read = (t: tf.Tensor) => Array.from(t.dataSync());
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe("MoCo v3 + DILEMMA", () => {
  it("trains 10 steps without leaking tensors, with finite losses and detection metrics", () => {
    const m = createMethod(tinyConfig());
    const [x1, x2] = [images(B, 1), images(B, 2)];
    const rng = rngAt();
    let after1 = 0;
    for (let step = 0; step < 10; step++) {
      const r = m.trainStep([x1, x2], step, rng);
      expect(Number.isFinite(r.loss) && Number.isFinite(r.sslLoss) && Number.isFinite(r.dilemmaLoss)).toBe(true);
      expect(r.dilemmaLoss).toBeGreaterThan(0);
      expect(r.loss).toBeCloseTo(r.sslLoss + r.dilemmaLoss, 4); // lambda = 1
      expect(r.detection!.accuracy).toBeGreaterThanOrEqual(0);
      if (step === 0) after1 = tf.memory().numTensors;
      else expect(tf.memory().numTensors, `live tensors after step ${step}`).toBe(after1);
    }
    expect(rng.counter).toBe(20); // one draw per query view per step
    tf.dispose([x1, x2]);
    m.dispose();
  });

  it("reduces the loss on a tiny repeated batch (same images, same corruption each step)", () => {
    const m = createMethod(tinyConfig({ optim: { lr: 3e-3 } }));
    const [x1, x2] = [images(8, 3), images(8, 4)];
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) losses.push(m.trainStep([x1, x2], step, rngAt()).loss);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)) * 0.8);
    tf.dispose([x1, x2]);
    m.dispose();
  });

  it("plain MoCo v3 (dilemmaProb 0, tokenDrop 0) returns a finite loss and draws nothing", () => {
    const m = createMethod(tinyConfig({ dilemmaProb: 0, tokenDrop: 0 })) as MoCoV3;
    expect(m.dilemmaHead).toBeUndefined();
    expect(Object.keys(m.getWeights()).some((n) => n.startsWith("dilemma_head."))).toBe(false);
    const [x1, x2] = [images(B, 1), images(B, 2)];
    const rng = rngAt();
    const r = m.trainStep([x1, x2], 0, rng);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.loss).toBe(r.sslLoss);
    expect(r.dilemmaLoss).toBe(0);
    expect(r.detection).toBeUndefined();
    expect(rng.counter).toBe(0);
    tf.dispose([x1, x2]);
    m.dispose();
  });

  it("sparse without corruption (tokenDrop > 0, dilemmaProb 0): K tokens, no detection loss", () => {
    const m = createMethod(tinyConfig({ dilemmaProb: 0, tokenDrop: 0.5 })) as MoCoV3;
    expect(m.dilemmaHead).toBeUndefined();
    const [x1, x2] = [images(B, 1), images(B, 2)];
    const rng = rngAt();
    const s = m.sampleView(B, rng)!;
    expect(s.numKept).toBe(numKept(16, 0.5));
    expect(Array.from(s.inputPos)).toEqual(Array.from(s.realPos));
    const r = m.trainStep([x1, x2], 0, rng);
    expect(Number.isFinite(r.loss) && r.dilemmaLoss === 0 && r.detection === undefined).toBe(true);
    expect(rng.counter).toBe(3);
    tf.dispose([x1, x2]);
    m.dispose();
  });

  it("feeds the corrupted positions to the base encoder (changing inputPos changes q, logits and loss)", () => {
    const m = new MoCoV3(tinyConfig({ dilemmaProb: 0.5 }));
    const [x1, x2] = [images(B, 1), images(B, 2)];
    const s = sampleDilemma({ batch: B, numPatches: 16, tokenDrop: 0.5, dilemmaProb: 0.5, rng: rngAt(5) });
    expect(Array.from(s.labels)).toContain(1);
    const v = sampleToTensors(s);
    const clean = { ...v, inputPos: v.realPos }; // same tokens and labels, correct positions
    const a = m.forwardLoss(x1, x2, v, v);
    const b = m.forwardLoss(x1, x2, clean, clean);
    expect(maxDiff(a.q1, b.q1)).toBeGreaterThan(1e-4);
    expect(maxDiff(a.dilemmaLogits[0], b.dilemmaLogits[0])).toBeGreaterThan(1e-4);
    expect(Math.abs(a.loss.dataSync()[0] - b.loss.dataSync()[0])).toBeGreaterThan(1e-5);
    // the head is scored on exactly the corruption the encoder saw: it matches detect()
    const p = m.detect(x1, s);
    expect(maxDiff(tf.sigmoid(a.dilemmaLogits[0]), p)).toBeLessThan(1e-6);
    tf.dispose([x1, x2, p, ...Object.values(v)]);
    tf.dispose(a as unknown as tf.TensorContainer);
    tf.dispose(b as unknown as tf.TensorContainer);
    m.dispose();
  });

  it("dense DILEMMA (tokenDrop 0) corrupts the encoder's input too, not only the labels", () => {
    const m = new MoCoV3(tinyConfig({ tokenDrop: 0, dilemmaProb: 0.5 }));
    const [x1, x2] = [images(B, 1), images(B, 2)];
    const s = sampleDilemma({ batch: B, numPatches: 16, tokenDrop: 0, dilemmaProb: 0.5, rng: rngAt(6) });
    const v = sampleToTensors(s);
    const clean = { ...v, inputPos: v.realPos };
    const a = m.forwardLoss(x1, x2, v, v);
    const b = m.forwardLoss(x1, x2, clean, clean);
    expect(maxDiff(a.dilemmaLogits[0], b.dilemmaLogits[0])).toBeGreaterThan(1e-4);
    tf.dispose([x1, x2, ...Object.values(v)]);
    tf.dispose([a, b] as unknown as tf.TensorContainer);
    m.dispose();
  });

  it("takes keys from the momentum encoder on the dense, uncorrupted views", () => {
    const m = new MoCoV3(tinyConfig({ dilemmaProb: 0.5 }));
    const [x1, x2] = [images(B, 1), images(B, 2)];
    // make the momentum encoder differ from the base so that a mix-up would show
    tf.tidy(() => { for (const v of m.momentumEncoder.params.values()) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, "float32", 9))); });
    const v = sampleToTensors(sampleDilemma({ batch: B, numPatches: 16, tokenDrop: 0.5, dilemmaProb: 0.5, rng: rngAt(7) }));
    const out = m.forwardLoss(x1, x2, v, v);
    const expected = tf.tidy(() => m.momentumProjector.apply(m.momentumEncoder.forward(x1).cls, true));
    const fromBase = tf.tidy(() => m.momentumProjector.apply(m.encoder.forward(x1).cls, true));
    expect(maxDiff(out.k1, expected)).toBeLessThan(1e-6);
    expect(maxDiff(out.k1, fromBase)).toBeGreaterThan(1e-4);
    tf.dispose([x1, x2, expected, fromBase, ...Object.values(v)]);
    tf.dispose(out as unknown as tf.TensorContainer);
    m.dispose();
  });

  it("applies the momentum update (scheduled m) to the momentum encoder before the step", () => {
    const cfg = tinyConfig({ momentum: 0.9, optim: { totalSteps: 10 } });
    const m = new MoCoV3(cfg);
    const [x1, x2] = [images(B, 1), images(B, 2)];
    const rng = rngAt();
    m.trainStep([x1, x2], 0, rng); // base and momentum now differ
    const base = read(m.encoder.params.get("pos_embed")!);
    const mom = read(m.momentumEncoder.params.get("pos_embed")!);
    const mu = momentumAt(3, 0.9, 10);
    m.trainStep([x1, x2], 3, rng);
    const got = read(m.momentumEncoder.params.get("pos_embed")!);
    const want = mom.map((v, i) => mu * v + (1 - mu) * base[i]);
    expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-6);
    expect(Math.max(...base.map((v, i) => Math.abs(v - mom[i])))).toBeGreaterThan(1e-6);
    tf.dispose([x1, x2]);
    m.dispose();
  });

  it("trainStep's loss is forwardLoss on the views it draws (view 1 -> x1, view 2 -> x2)", () => {
    const [a, b] = [new MoCoV3(tinyConfig()), new MoCoV3(tinyConfig())];
    const [x1, x2] = [images(B, 1), images(B, 2)];
    // step 0: the momentum encoder equals the base encoder, so the momentum update is the identity
    const rngB = rngAt(21);
    const [s1, s2] = [b.sampleView(B, rngB)!, b.sampleView(B, rngB)!];
    const [v1, v2] = [sampleToTensors(s1), sampleToTensors(s2)];
    const out = b.forwardLoss(x1, x2, v1, v2);
    const swapped = b.forwardLoss(x1, x2, v2, v1);
    const r = a.trainStep([x1, x2], 0, rngAt(21));
    expect(r.loss).toBeCloseTo(out.loss.dataSync()[0], 5);
    expect(Math.abs(r.loss - swapped.loss.dataSync()[0])).toBeGreaterThan(1e-4);
    tf.dispose([x1, x2, ...Object.values(v1), ...Object.values(v2)]);
    tf.dispose([out, swapped] as unknown as tf.TensorContainer);
    a.dispose();
    b.dispose();
  });

  it("resumes exactly: weights + optimizer state after n steps give identical next losses", () => {
    const cfg = tinyConfig();
    const a = createMethod(cfg);
    const [x1, x2] = [images(B, 1), images(B, 2)];
    const rng = rngAt();
    for (let s = 0; s < 3; s++) a.trainStep([x1, x2], s, rng);
    const b = createMethod({ ...cfg, seed: 99 }); // different init: everything must come from the state
    b.setWeights(a.getWeights());
    b.setOptimizerState(a.getOptimizerState());
    const rngB = { ...rng };
    for (let s = 3; s < 5; s++) {
      const ra = a.trainStep([x1, x2], s, rng);
      const rb = b.trainStep([x1, x2], s, rngB);
      expect(rb.loss).toBe(ra.loss);
      expect(rb.dilemmaLoss).toBe(ra.dilemmaLoss);
    }
    tf.dispose([x1, x2]);
    a.dispose();
    b.dispose();
  });

  it("names weights in the run format and rejects unknown or misshapen ones", () => {
    const m = createMethod(tinyConfig());
    const w = m.getWeights();
    for (const n of ["base_encoder.pos_embed", "base_encoder.blocks.0.attn.qkv.weight", "base_encoder.head.0.weight",
      "base_encoder.head.1.running_var", "momentum_encoder.head.6.weight", "predictor.3.weight", "predictor.1.bias",
      "dilemma_head.weight", "dilemma_head.bias"]) expect(w[n], n).toBeDefined();
    expect(w["base_encoder.head.7.weight"]).toBeUndefined(); // last BN is affine=False
    expect(Object.keys(m.getOptimizerState().tensors)).toContain("exp_avg/base_encoder.pos_embed");
    expect(Object.keys(m.getOptimizerState().tensors)).not.toContain("exp_avg/momentum_encoder.pos_embed");
    const bogus = tf.zeros([1]);
    expect(() => m.setWeights({ ...w, "base_encoder.nope": bogus })).toThrow(/unknown weights base_encoder.nope/);
    expect(() => m.setWeights({ ...w, "dilemma_head.bias": tf.zeros([2]) })).toThrow(/dilemma_head.bias.*shape/);
    const { ["predictor.0.weight"]: _dropped, ...rest } = w;
    expect(() => m.setWeights(rest)).toThrow(/missing "predictor.0.weight"/);
    bogus.dispose();
    m.dispose();
  });

  it("features() gives dense cls features [B, D]", () => {
    const m = createMethod(tinyConfig());
    const x = images(B, 1);
    const f = m.features(x);
    expect(f.shape).toEqual([B, 16]);
    tf.dispose([x, f]);
    m.dispose();
  });
});
