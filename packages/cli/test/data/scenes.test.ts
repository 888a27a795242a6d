import { describe, expect, it } from "vitest";
import { openDataset, SCENE_CLASSES, type Sample } from "../../src/data/index.js";
import { renderScene } from "../../src/data/scenes.js";

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const lum = (p: Uint8Array, i: number): number => 0.299 * p[i * 3] + 0.587 * p[i * 3 + 1] + 0.114 * p[i * 3 + 2];

/** Mean over images of a per-image statistic of `S`-px scenes. */
function meanOver(n: number, S: number, f: (p: Uint8Array) => number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += f(renderScene(i % SCENE_CLASSES.length, S, 0, 0, i));
  return sum / n;
}

describe("scenes dataset", () => {
  it("is deterministic for a seed and differs across seeds, splits and indices", async () => {
    const a = await openDataset("scenes:n=100", { imageSize: 32, seed: 1 });
    const b = await openDataset("scenes:n=100", { imageSize: 32, seed: 1 });
    const c = await openDataset("scenes:n=100", { imageSize: 32, seed: 2 });
    for (const i of [0, 7, 99]) {
      const sa = (await a.get("train", i)) as Sample;
      expect(sa.pixels.length).toBe(32 * 32 * 3);
      expect(bytesEqual(sa.pixels, ((await b.get("train", i)) as Sample).pixels)).toBe(true);
      expect(bytesEqual(sa.pixels, ((await c.get("train", i)) as Sample).pixels)).toBe(false);
      expect(bytesEqual(sa.pixels, ((await a.get("val", i)) as Sample).pixels)).toBe(false);
    }
  });

  it("has 8 balanced, interleaved classes, sizes from the options and its augmentation defaults", async () => {
    const ds = await openDataset("scenes:n=803,val=40,test=16", { imageSize: 16 });
    expect(ds.classNames).toEqual([...SCENE_CLASSES]);
    expect([ds.size("train"), ds.size("val"), ds.size("test")]).toEqual([803, 40, 16]);
    const counts = new Array(ds.numClasses).fill(0);
    for (let i = 0; i < ds.size("train"); i++) counts[((await ds.get("train", i)) as Sample).label]++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // The first images of a split (what the evaluations read) cover every class.
    const first = await Promise.all(Array.from({ length: 8 }, async (_, i) => ((await ds.get("val", i)) as Sample).label));
    expect(new Set(first).size).toBe(8);
    expect(ds.augment?.cropScale?.[0]).toBeGreaterThan(0.08);
    expect((await openDataset("scenes:classes=3", { imageSize: 8 })).classNames).toEqual(["tree", "pine", "house"]);
  });

  it("keeps the splits disjoint", async () => {
    const ds = await openDataset("scenes:n=200,val=200,test=200", { imageSize: 16 });
    const seen = new Set<string>();
    for (const split of ["train", "val", "test"] as const) {
      for (let i = 0; i < 200; i++) seen.add(Buffer.from(((await ds.get(split, i)) as Sample).pixels).toString("base64"));
    }
    expect(seen.size).toBe(600);
  });

  it("has the layout of a photograph: a bluer sky above, ground below", () => {
    const S = 32;
    // Blue minus red of the top rows against the bottom rows, averaged over images.
    const blueness = (p: Uint8Array, y0: number, y1: number): number => {
      let s = 0;
      for (let y = y0; y < y1; y++) for (let x = 0; x < S; x++) s += p[(y * S + x) * 3 + 2] - p[(y * S + x) * 3];
      return s / ((y1 - y0) * S);
    };
    const top = meanOver(64, S, (p) => blueness(p, 0, 6));
    const bottom = meanOver(64, S, (p) => blueness(p, S - 6, S));
    expect(top - bottom).toBeGreaterThan(40);
  });

  it("is lit from one side: the brighter half of the sky is the sun's, and it varies", () => {
    const S = 32;
    let left = 0;
    let right = 0;
    for (let i = 0; i < 64; i++) {
      const p = renderScene(i % 8, S, 0, 0, i);
      let l = 0;
      let r = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 10; x++) { l += lum(p, y * S + x); r += lum(p, y * S + S - 1 - x); }
      if (l > r) left++;
      else right++;
    }
    // Both sides occur, so the light side must be read from each picture.
    expect(left).toBeGreaterThan(15);
    expect(right).toBeGreaterThan(15);
  });

  it("puts the object on the ground: the class changes the lower-middle of the picture, not the sky corners", () => {
    const S = 32;
    // Same key, different class: the scene around the object is identical.
    let corner = 0;
    let middle = 0;
    for (let i = 0; i < 32; i++) {
      const a = renderScene(0, S, 0, 0, i);
      const b = renderScene(2, S, 0, 0, i);
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        const d = Math.abs(lum(a, y * S + x) - lum(b, y * S + x));
        if (y < 4 && (x < 4 || x >= S - 4)) corner += d;
        if (y >= S / 3 && x >= S / 4 && x < (3 * S) / 4) middle += d;
      }
    }
    expect(corner).toBe(0);
    expect(middle / 32).toBeGreaterThan(500);
  });

  it("renders at any size in well under a millisecond per 32 px image", () => {
    for (const S of [1, 7, 64]) expect(renderScene(3, S, 0, 0, 0).length).toBe(S * S * 3);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) renderScene(i % 8, 32, 0, 0, i);
    // A generous bound (loaded CI machines): the loader renders 2 views x batch per step.
    expect((performance.now() - t0) / 200).toBeLessThan(5);
  });

  it("rejects bad options naming them", async () => {
    await expect(openDataset("scenes:n=0", { imageSize: 32 })).rejects.toThrow(/n=0 is invalid/);
    await expect(openDataset("scenes:classes=9", { imageSize: 32 })).rejects.toThrow(/classes=9 is invalid/);
    await expect(openDataset("scenes:sky=red", { imageSize: 32 })).rejects.toThrow(/unknown option "sky".*n, val, test, classes/);
    const ds = await openDataset("scenes:n=10", { imageSize: 8 });
    expect(() => ds.get("train", 10)).toThrow(/out of range/);
  });
});
