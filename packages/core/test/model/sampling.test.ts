import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { dilemmaPositions, numKept, philox4x32, philoxUniforms, sampleDilemma, sampleToTensors, wordToUniform } from "../../src/model/index.js";
import { listCases, loadCase } from "../util/fixtures.js";

const hex = (w: Uint32Array) => Array.from(w, (x) => x.toString(16).padStart(8, "0")).join(" ");

describe("Philox4x32-10", () => {
  it("matches the Random123 known-answer vectors of docs/sampling.md", () => {
    expect(hex(philox4x32(0, 0, 0, 0, 0, 0))).toBe("6627e8d5 e169c58d bc57ac4c 9b00dbd8");
    const f = 0xffffffff;
    expect(hex(philox4x32(f, f, f, f, f, f))).toBe("408f276d 41c83b0e a20bc7c6 6d5451fd");
    expect(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)))
      .toBe("d16cfe09 94fdcceb 5001e420 24126ea1");
  });

  it("maps words to [0, 1) with 24 bits", () => {
    expect(wordToUniform(0)).toBe(0);
    expect(wordToUniform(0xffffffff)).toBe(1 - 2 ** -24);
    expect(wordToUniform(0x80000000)).toBe(0.5);
  });

  it("lays out noise as word l % 4 of block floor(l / 4)", () => {
    const u = philoxUniforms(0x100000005, 7, 0, 3, 6); // seed above 2^32 exercises the high key word
    const w0 = philox4x32(0, 3, 7, 0, 5, 1);
    const w1 = philox4x32(1, 3, 7, 0, 5, 1);
    expect(Array.from(u)).toEqual([...Array.from(w0, wordToUniform), wordToUniform(w1[0]), wordToUniform(w1[1])]);
  });
});

describe("numKept", () => {
  it("is Python int(L * (1 - tokenDrop)) and rejects K < 1", () => {
    expect(numKept(16, 0.5)).toBe(8);
    expect(numKept(196, 0.75)).toBe(49);
    expect(numKept(10, 0.33)).toBe(6);
    expect(numKept(16, 0)).toBe(16);
    expect(() => numKept(4, 0.9)).toThrow(/keeps no patch/);
    expect(() => numKept(4, 1)).toThrow(/tokenDrop/);
  });
});

describe("sampleDilemma", () => {
  const draw = (L: number, tokenDrop: number, p: number, seed = 3, counter = 0, batch = 8) =>
    sampleDilemma({ batch, numPatches: L, tokenDrop, dilemmaProb: p, rng: { seed, counter } });

  it("keeps distinct positions per row and corrupts to a different position", () => {
    for (const [L, drop] of [[16, 0.5], [49, 0.75], [16, 0], [9, 0]] as const) {
      const s = draw(L, drop, 0.5);
      const K = s.numKept;
      expect(K).toBe(numKept(L, drop));
      for (let b = 0; b < s.batch; b++) {
        const row = Array.from(s.realPos.subarray(b * K, (b + 1) * K));
        expect(new Set(row).size).toBe(K);
        for (let i = 0; i < K; i++) {
          const j = b * K + i;
          expect(row[i]).toBeGreaterThanOrEqual(0);
          expect(row[i]).toBeLessThan(L);
          if (s.labels[j] === 0) {
            expect(s.inputPos[j]).toBe(s.realPos[j]);
          } else if (K < L) {
            // sparse: the wrong position is one of the row's dropped patches
            expect(row).not.toContain(s.inputPos[j]);
          } else if (!(L % 2 === 1 && i === (L - 1) / 2)) {
            // dense: the mirrored shuffle index, except the documented odd-L middle token
            expect(s.inputPos[j]).not.toBe(s.realPos[j]);
          }
        }
      }
    }
  });

  it("corrupts a fraction ~ dilemmaProb of tokens", () => {
    const rng = { seed: 11, counter: 0 };
    let ones = 0, n = 0;
    for (let t = 0; t < 50; t++) {
      const s = sampleDilemma({ batch: 16, numPatches: 64, tokenDrop: 0.5, dilemmaProb: 0.2, rng });
      for (const v of s.labels) { ones += v; n++; }
    }
    // 25600 Bernoulli(0.2) draws: sd ~ 0.0025
    expect(Math.abs(ones / n - 0.2)).toBeLessThan(0.015);
    expect(rng.counter).toBe(50);
    expect(draw(16, 0.5, 0).labels.every((v) => v === 0)).toBe(true);
    expect(draw(16, 0.5, 1).labels.every((v) => v === 1)).toBe(true);
  });

  it("is a function of (seed, counter) and advances the counter", () => {
    const rng = { seed: 5, counter: 41 };
    const a = sampleDilemma({ batch: 4, numPatches: 16, tokenDrop: 0.5, dilemmaProb: 0.5, rng });
    expect(rng.counter).toBe(42);
    const b = draw(16, 0.5, 0.5, 5, 41, 4);
    expect(b).toEqual(a);
    const c = draw(16, 0.5, 0.5, 5, 42, 4);
    expect(Array.from(c.realPos)).not.toEqual(Array.from(a.realPos));
    const d = draw(16, 0.5, 0.5, 6, 41, 4);
    expect(Array.from(d.realPos)).not.toEqual(Array.from(a.realPos));
  });

  it("rejects invalid arguments with a clear error", () => {
    expect(() => draw(16, 0.5, 1.5)).toThrow(/dilemmaProb must be in \[0, 1\]/);
    expect(() => draw(16, 0.5, 0.5, 1, -1)).toThrow(/rng.counter must be a uint32/);
    expect(() => draw(16, 0.5, 0.5, -3)).toThrow(/seed must be a non-negative safe integer/);
    expect(() => draw(0, 0.5, 0.5)).toThrow(/positive integers/);
  });

  it("breaks ties by the lower index (stable argsort)", () => {
    const s = dilemmaPositions([0.5, 0.1, 0.5, 0.1], [0.9, 0.9], 1, 4, 2, 0.5);
    expect(Array.from(s.idsShuffle)).toEqual([1, 3, 0, 2]);
    expect(Array.from(s.realPos)).toEqual([1, 3]);
  });

  it("converts to int32 / float32 tensors of shape [B, K]", () => {
    const s = draw(16, 0.25, 0.3, 1, 0, 2);
    const t = sampleToTensors(s);
    expect(t.realPos.shape).toEqual([2, 12]);
    expect(t.realPos.dtype).toBe("int32");
    expect(t.labels.dtype).toBe("float32");
    expect(Array.from(t.inputPos.dataSync())).toEqual(Array.from(s.inputPos));
    tf.dispose([t.realPos, t.inputPos, t.labels]);
  });
});

describe("sampling vs the PyTorch fixtures", () => {
  const cases = listCases().filter((c) => c.kind === "vit_dilemma");
  it("finds vit_dilemma fixtures", () => expect(cases.length).toBeGreaterThan(0));
  for (const { name, dir } of cases) {
    it(`${name}: noise + label_rand reproduce ids_shuffle, real_pos, input_pos, labels`, () => {
      const c = loadCase(dir);
      const [B, L] = c.shape("input/noise");
      const K = c.shape("input/real_pos")[1];
      expect(K).toBe(numKept(L, c.manifest.config.token_drop_rate));
      const s = dilemmaPositions(c.array("input/noise"), c.array("input/label_rand"), B, L, K, c.manifest.config.dilemma_probability);
      expect(Array.from(s.idsShuffle)).toEqual(Array.from(c.array("expected/ids_shuffle")));
      expect(Array.from(s.realPos)).toEqual(Array.from(c.array("input/real_pos")));
      expect(Array.from(s.inputPos)).toEqual(Array.from(c.array("input/input_pos")));
      expect(Array.from(s.labels)).toEqual(Array.from(c.array("input/labels")));
    });
  }
});
