import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { createMethod } from "../../src/train/create.js";
import { DINO } from "../../src/train/dino.js";
import { SimCLR } from "../../src/train/simclr.js";
import { images, rngAt, tinyConfig } from "./tiny.js";

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

describe("SimCLR + DILEMMA", () => {
  it("steps without leaks and reduces its loss on a repeated batch", () => {
    const m = createMethod(tinyConfig({ method: "simclr", optim: { lr: 3e-3 } }));
    expect(m).toBeInstanceOf(SimCLR);
    const [x1, x2] = [images(8, 3), images(8, 4)];
    const losses: number[] = [];
    let live = 0;
    for (let step = 0; step < 10; step++) {
      const r = m.trainStep([x1, x2], step, rngAt());
      expect(r.loss).toBeCloseTo(r.sslLoss + r.dilemmaLoss, 4);
      expect(r.detection).toBeDefined();
      losses.push(r.loss);
      if (step === 0) live = tf.memory().numTensors;
      else expect(tf.memory().numTensors).toBe(live);
    }
    expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)) * 0.8);
    expect(Object.keys(m.getWeights())).toContain("base_encoder.head.6.weight");
    tf.dispose([x1, x2]);
    m.dispose();
  });

  it("runs the plain method (no DILEMMA)", () => {
    const m = createMethod(tinyConfig({ method: "simclr", tokenDrop: 0, dilemmaProb: 0 }));
    const [x1, x2] = [images(4, 1), images(4, 2)];
    const r = m.trainStep([x1, x2], 0, rngAt());
    expect(Number.isFinite(r.loss) && r.dilemmaLoss === 0 && r.detection === undefined).toBe(true);
    tf.dispose([x1, x2]);
    m.dispose();
  });
});

describe("DINO + DILEMMA", () => {
  it("steps without leaks, updates the center and the EMA teacher", () => {
    const m = createMethod(tinyConfig({ method: "dino", momentum: 0.9 })) as DINO;
    const [x1, x2, x3] = [images(4, 1), images(4, 2), images(4, 3)];
    const rng = rngAt();
    let live = 0;
    for (let step = 0; step < 4; step++) {
      const r = m.trainStep([x1, x2, x3], step, rng); // 2 global crops + 1 extra crop
      expect(Number.isFinite(r.loss) && r.dilemmaLoss > 0).toBe(true);
      if (step === 0) live = tf.memory().numTensors;
      else expect(tf.memory().numTensors).toBe(live);
    }
    expect(rng.counter).toBe(12);
    const w = m.getWeights();
    expect(tf.tidy(() => tf.max(tf.abs(w["dino_center"])).dataSync()[0])).toBeGreaterThan(0);
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(w["base_encoder.pos_embed"], w["momentum_encoder.pos_embed"]))).dataSync()[0]);
    expect(gap).toBeGreaterThan(0); // the teacher trails the student
    for (const n of ["dino_head.mlp.0.weight", "dino_head.last_layer.weight_v", "momentum_dino_head.mlp.4.bias"]) expect(w[n], n).toBeDefined();
    tf.dispose([x1, x2, x3]);
    m.dispose();
  });

  it("reduces its loss on a repeated batch against a fixed teacher and center", () => {
    // momentum 1 and centerMomentum 1 freeze the target, so the loss measures the student's fit
    const m = createMethod(tinyConfig({ method: "dino", momentum: 1, dino: { centerMomentum: 1 }, optim: { lr: 3e-3 } }));
    const [x1, x2] = [images(8, 3), images(8, 4)];
    const losses: number[] = [];
    for (let step = 0; step < 16; step++) losses.push(m.trainStep([x1, x2], step, rngAt()).loss);
    expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)) * 0.9);
    tf.dispose([x1, x2]);
    m.dispose();
  });

  it("resumes exactly (teacher, center and optimizer state included)", () => {
    const cfg = tinyConfig({ method: "dino", momentum: 0.9 });
    const a = createMethod(cfg);
    const [x1, x2] = [images(4, 1), images(4, 2)];
    const rng = rngAt();
    for (let s = 0; s < 2; s++) a.trainStep([x1, x2], s, rng);
    const b = createMethod({ ...cfg, seed: 77 });
    b.setWeights(a.getWeights());
    b.setOptimizerState(a.getOptimizerState());
    const rngB = { ...rng };
    for (let s = 2; s < 4; s++) expect(b.trainStep([x1, x2], s, rngB).loss).toBe(a.trainStep([x1, x2], s, rng).loss);
    tf.dispose([x1, x2]);
    a.dispose();
    b.dispose();
  });
});
