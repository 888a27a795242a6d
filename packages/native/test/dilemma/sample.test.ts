// The native Philox sampler (C++) equals @dilemma/core's sampleDilemma bit for bit
// (docs/sampling.md), for several seeds / steps / shapes, dense and sparse; argument errors.
import { sampleDilemma } from "@dilemma/core";
import { describe, expect, it } from "vitest";
import { dilemmaAddon, sampleDilemmaNative } from "../../src/dilemma/index.js";
import { dilemmaKernelsOrSkip, firstDiff } from "./util.js";

const available = dilemmaKernelsOrSkip("dilemma sampler");

const seeds = [0, 1, 42, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER];
const steps = [0, 1, 12345, 2 ** 32 - 1];
const shapes = [
  { batch: 4, numPatches: 196, tokenDrop: 0.75, dilemmaProb: 0.2 },  // ViT-S/16 sparse: K = 49
  { batch: 3, numPatches: 16, tokenDrop: 0, dilemmaProb: 0.5 },      // dense, even L
  { batch: 3, numPatches: 17, tokenDrop: 0, dilemmaProb: 0.5 },      // dense, odd L: self-mirrored middle
  { batch: 2, numPatches: 1, tokenDrop: 0, dilemmaProb: 1 },
  { batch: 8, numPatches: 64, tokenDrop: 0.5, dilemmaProb: 0 },
  { batch: 2, numPatches: 1024, tokenDrop: 0.9, dilemmaProb: 1 },
];

describe.skipIf(!available)("native DILEMMA sampler", () => {
  for (const shape of shapes) {
    it(`equals core's sampleDilemma for B=${shape.batch} L=${shape.numPatches} tokenDrop=${shape.tokenDrop} p=${shape.dilemmaProb}`, () => {
      for (const seed of seeds) {
        for (const step of steps) {
          const rng = { seed, counter: step };
          const ref = sampleDilemma({ ...shape, rng });
          const got = sampleDilemmaNative({ ...shape, seed, step });
          const where = `seed=${seed} step=${step}`;
          expect(got.numKept, where).toBe(ref.numKept);
          expect([got.batch, got.numPatches]).toEqual([ref.batch, ref.numPatches]);
          expect(got.realPos).toBeInstanceOf(Int32Array);
          expect(got.labels).toBeInstanceOf(Float32Array);
          expect(firstDiff(got.realPos, ref.realPos), `realPos ${where}`).toBe(-1);
          expect(firstDiff(got.inputPos, ref.inputPos), `inputPos ${where}`).toBe(-1);
          expect(firstDiff(got.labels, ref.labels), `labels ${where}`).toBe(-1);
        }
      }
    });
  }

  it("draws differ between steps and seeds, and realPos rows are distinct", () => {
    const base = { batch: 16, numPatches: 196, tokenDrop: 0.75, dilemmaProb: 0.2 };
    const a = sampleDilemmaNative({ ...base, seed: 3, step: 0 });
    const b = sampleDilemmaNative({ ...base, seed: 3, step: 1 });
    const c = sampleDilemmaNative({ ...base, seed: 4, step: 0 });
    expect(firstDiff(a.realPos, b.realPos)).not.toBe(-1);
    expect(firstDiff(a.realPos, c.realPos)).not.toBe(-1);
    for (let r = 0; r < base.batch; r++) {
      const row = a.realPos.subarray(r * a.numKept, (r + 1) * a.numKept);
      expect(new Set(row).size).toBe(a.numKept);
    }
  });

  it("a BigInt seed gives the same draw as the equal Number seed", () => {
    const s1 = dilemmaAddon().dilemmaSample(2 ** 40 + 5, 9, 2, 32, 8, 0.4);
    const s2 = dilemmaAddon().dilemmaSample(2n ** 40n + 5n, 9, 2, 32, 8, 0.4);
    expect(firstDiff(s1.inputPos, s2.inputPos)).toBe(-1);
  });

  it("rejects bad arguments with a message naming them", () => {
    const a = dilemmaAddon();
    expect(() => a.dilemmaSample(-1, 0, 2, 8, 4, 0.2)).toThrow("dilemmaSample: seed must be a non-negative safe integer");
    expect(() => a.dilemmaSample(0, 2 ** 32, 2, 8, 4, 0.2)).toThrow("dilemmaSample: step must be an integer in [0, 2^32)");
    expect(() => a.dilemmaSample(0, 0, 2, 8, 9, 0.2)).toThrow("dilemmaSample: numKept must be in [1, numPatches=8], got 9");
    expect(() => a.dilemmaSample(0, 0, 2, 8, 0, 0.2)).toThrow("numKept must be in [1, numPatches=8], got 0");
    expect(() => a.dilemmaSample(0, 0, 2, 8, 4, NaN)).toThrow("dilemmaSample: p (dilemmaProb) is NaN");
    expect(() => sampleDilemmaNative({ batch: 2, numPatches: 8, tokenDrop: 1, dilemmaProb: 0.2, seed: 0, step: 0 })).toThrow(/tokenDrop/);
    expect(() => sampleDilemmaNative({ batch: 0, numPatches: 8, tokenDrop: 0, dilemmaProb: 0.2, seed: 0, step: 0 })).toThrow(/batch and numPatches must be positive integers/);
    expect(() => sampleDilemmaNative({ batch: 2, numPatches: 8, tokenDrop: 0, dilemmaProb: 1.5, seed: 0, step: 0 })).toThrow(/dilemmaProb must be in \[0, 1\]/);
    // The addon itself accepts an empty batch.
    expect(a.dilemmaSample(0, 0, 0, 8, 4, 0.2).realPos.length).toBe(0);
  });
});
