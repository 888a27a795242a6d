import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { createMethod } from "../../src/train/create.js";
import { images, rngAt, tinyConfig } from "./tiny.js";

describe("method lifecycle", () => {
  for (const [method, dilemmaProb] of [["mocov3", 0], ["mocov3", 0.25], ["simclr", 0.25], ["dino", 0.25]] as const) {
    it(`${method} (dilemmaProb ${dilemmaProb}): create, step and dispose release every tensor`, () => {
      const [x1, x2] = [images(4, 1), images(4, 2)];
      const before = tf.memory().numTensors;
      const m = createMethod(tinyConfig({ method, dilemmaProb, tokenDrop: 0.5 }));
      m.trainStep([x1, x2], 0, rngAt());
      m.dispose();
      expect(tf.memory().numTensors - before).toBe(0);
      tf.dispose([x1, x2]);
    });
  }

  it("rejects bad configurations and views with clear errors", () => {
    expect(() => createMethod(tinyConfig({ tokenDrop: 0.99 }))).toThrow(/keeps no patch/);
    expect(() => createMethod(tinyConfig({ dilemmaProb: 1.5 }))).toThrow(/dilemmaProb must be in \[0, 1\]/);
    expect(() => createMethod(tinyConfig({ method: "byol" as never }))).toThrow(/unknown method "byol"/);
    const m = createMethod(tinyConfig());
    const [x1, x2] = [images(4, 1), images(2, 2)];
    expect(() => m.trainStep([x1], 0, rngAt())).toThrow(/exactly 2 views/);
    expect(() => m.trainStep([x1, x2], 0, rngAt())).toThrow(/share one NCHW shape/);
    tf.dispose([x1, x2]);
    m.dispose();
  });
});
