import { describe, expect, it } from "vitest";
import { NORMALIZE, type Sample } from "../../src/data/index.js";
import { checkAugment, randomResizedCrop, recipeAugment, renderView, type Augment } from "../../src/data/augment.js";
import { Rng } from "../../src/data/prng.js";
import { renderShape } from "../../src/data/shapes.js";

const S = 32;
const sample: Sample = { pixels: renderShape(3, 48, 0, 0, 5), width: 48, height: 48, label: 3 };
const view = (recipe: "mocov3" | "dino" | "eval", v: number, seed: number, step = 0, slot = 0): Float32Array => {
  const out = new Float32Array(3 * S * S);
  renderView(sample, recipe, v, S, { seed, step, slot }, out, 0);
  return out;
};
const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe("augmentations", () => {
  it("are deterministic for a key and change with seed, step, sample and view", () => {
    for (const recipe of ["mocov3", "dino"] as const) {
      expect(same(view(recipe, 0, 1), view(recipe, 0, 1))).toBe(true);
      expect(same(view(recipe, 0, 1), view(recipe, 0, 2))).toBe(false);
      expect(same(view(recipe, 0, 1), view(recipe, 0, 1, 1))).toBe(false);
      expect(same(view(recipe, 0, 1), view(recipe, 0, 1, 0, 1))).toBe(false);
      expect(same(view(recipe, 0, 1), view(recipe, 1, 1))).toBe(false);
    }
  });

  it("stay within the normalised range of [0, 1] pixels and are finite", () => {
    for (let seed = 0; seed < 20; seed++) {
      for (const v of [0, 1]) {
        const out = view("mocov3", v, seed);
        for (let c = 0; c < 3; c++) {
          const lo = (0 - NORMALIZE.mean[c]) / NORMALIZE.std[c] - 1e-5;
          const hi = (1 - NORMALIZE.mean[c]) / NORMALIZE.std[c] + 1e-5;
          const plane = out.subarray(c * S * S, (c + 1) * S * S);
          // NaN fails both comparisons, so it is caught too.
          const bad = plane.findIndex((x) => !(x >= lo && x <= hi));
          expect(bad, `value ${plane[bad]} outside [${lo}, ${hi}] (channel ${c})`).toBe(-1);
        }
      }
    }
  });

  it("eval is a plain resize plus normalisation", () => {
    const img: Sample = { pixels: renderShape(0, S, 0, 0, 1), width: S, height: S, label: 0 };
    const out = new Float32Array(3 * S * S);
    renderView(img, "eval", 0, S, { seed: 9, step: 3, slot: 1 }, out, 0);
    for (let i = 0; i < S * S; i++) {
      for (let c = 0; c < 3; c++) {
        const want = (img.pixels[i * 3 + c] / 255 - NORMALIZE.mean[c]) / NORMALIZE.std[c];
        expect(out[c * S * S + i]).toBeCloseTo(want, 4);
      }
    }
  });

  it("RandomResizedCrop stays inside the image with scale and ratio in range", () => {
    for (let k = 0; k < 500; k++) {
      const r = randomResizedCrop(new Rng(k), 40, 30, [0.08, 1]);
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.y).toBeGreaterThanOrEqual(0);
      expect(r.x + r.w).toBeLessThanOrEqual(40);
      expect(r.y + r.h).toBeLessThanOrEqual(30);
      const area = (r.w * r.h) / 1200;
      expect(area).toBeGreaterThan(0.03); // 0.08 before rounding to whole pixels
      expect(area).toBeLessThanOrEqual(1);
    }
  });

  it("the two MoCo v3 views differ on average (crop, jitter, blur, solarize)", () => {
    let diff = 0;
    for (let seed = 0; seed < 10; seed++) {
      const a = view("mocov3", 0, seed);
      const b = view("mocov3", 1, seed);
      for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]) / a.length;
    }
    expect(diff / 10).toBeGreaterThan(0.1);
  });

  describe("strength options", () => {
    const withAug = (a: Augment | undefined, seed: number, v = 0): Float32Array => {
      const out = new Float32Array(3 * S * S);
      renderView(sample, "mocov3", v, S, { seed, step: 0, slot: 0 }, out, 0, a);
      return out;
    };
    const full: Augment = { cropScale: [1, 1], flip: false, colorJitter: false };

    it("the recipe's own strength is what no options mean, bit for bit", () => {
      expect(recipeAugment("mocov3")).toEqual({ cropScale: [0.08, 1], flip: true, colorJitter: true });
      expect(recipeAugment("dino").cropScale).toEqual([0.4, 1]);
      for (let seed = 0; seed < 5; seed++) expect(same(withAug(recipeAugment("mocov3"), seed), withAug(undefined, seed))).toBe(true);
    });

    it("crop scale 1, no flip, no jitter leaves only blur / solarize on the whole image", () => {
      // View 1 of MoCo v3 blurs with p 0.1 and solarizes with p 0.2: most seeds give the eval view.
      const plain = view("eval", 0, 0);
      let equal = 0;
      for (let seed = 0; seed < 20; seed++) if (same(withAug(full, seed, 1), plain)) equal++;
      expect(equal).toBeGreaterThan(8);
      expect(equal).toBeLessThan(20);
    });

    it("switching flips or jitter off changes only that augmentation's effect", () => {
      // With jitter off the crop and flip draws stay the same, so the no-jitter view of a seed
      // equals the full view exactly when that seed drew no jitter and no grayscale.
      let flipsSeen = 0;
      for (let seed = 0; seed < 30; seed++) {
        const noFlip = withAug({ cropScale: [1, 1], flip: false, colorJitter: false }, seed, 1);
        const maybeFlip = withAug({ cropScale: [1, 1], flip: true, colorJitter: false }, seed, 1);
        if (!same(noFlip, maybeFlip)) {
          flipsSeen++;
          // A flip mirrors each row.
          expect(maybeFlip[0]).toBeCloseTo(noFlip[S - 1], 5);
        }
      }
      expect(flipsSeen).toBeGreaterThan(5);
      expect(flipsSeen).toBeLessThan(25);
    });

    it("larger minimum crops keep more of the image", () => {
      let big = 0;
      let small = 0;
      for (let k = 0; k < 300; k++) {
        const a = randomResizedCrop(new Rng(k), 32, 32, [0.6, 1]);
        const b = randomResizedCrop(new Rng(k), 32, 32, [0.08, 1]);
        big += (a.w * a.h) / 1024 / 300;
        small += (b.w * b.h) / 1024 / 300;
        expect((a.w * a.h) / 1024).toBeGreaterThan(0.5);
      }
      expect(big).toBeGreaterThan(small + 0.2);
    });

    it("rejects invalid strengths with the allowed range", () => {
      for (const cropScale of [[0, 1], [0.5, 0.4], [0.2, 1.5], [NaN, 1]] as [number, number][]) {
        expect(() => checkAugment({ ...full, cropScale })).toThrow(/0 < min <= max <= 1/);
      }
      expect(() => checkAugment({ ...full, flip: "yes" as never })).toThrow(/true or false/);
    });
  });
});
