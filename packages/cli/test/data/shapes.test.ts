import { describe, expect, it } from "vitest";
import { openDataset, SHAPE_CLASSES, type Sample } from "../../src/data/index.js";

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("shapes dataset", () => {
  it("is deterministic for a seed and differs across seeds", async () => {
    const a = await openDataset("shapes:n=100", { imageSize: 32, seed: 1 });
    const b = await openDataset("shapes:n=100", { imageSize: 32, seed: 1 });
    const c = await openDataset("shapes:n=100", { imageSize: 32, seed: 2 });
    for (const i of [0, 7, 99]) {
      const sa = (await a.get("train", i)) as Sample;
      expect(sa.pixels.length).toBe(32 * 32 * 3);
      expect(bytesEqual(sa.pixels, ((await b.get("train", i)) as Sample).pixels)).toBe(true);
      expect(bytesEqual(sa.pixels, ((await c.get("train", i)) as Sample).pixels)).toBe(false);
    }
  });

  it("has at least 8 balanced classes and sizes from the options", async () => {
    const ds = await openDataset("shapes:n=803,val=40,test=16", { imageSize: 16 });
    expect(ds.numClasses).toBeGreaterThanOrEqual(8);
    expect(ds.classNames).toEqual([...SHAPE_CLASSES].slice(0, ds.numClasses));
    expect([ds.size("train"), ds.size("val"), ds.size("test")]).toEqual([803, 40, 16]);
    const counts = new Array(ds.numClasses).fill(0);
    for (let i = 0; i < ds.size("train"); i++) counts[((await ds.get("train", i)) as Sample).label]++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it("keeps the splits disjoint", async () => {
    const ds = await openDataset("shapes:n=200,val=200,test=200", { imageSize: 16 });
    const seen = new Set<string>();
    for (const split of ["train", "val", "test"] as const) {
      for (let i = 0; i < 200; i++) seen.add(Buffer.from(((await ds.get(split, i)) as Sample).pixels).toString("base64"));
    }
    expect(seen.size).toBe(600);
  });

  it("renders backgrounds that vary across the image and shapes that cover a plausible area", async () => {
    const ds = await openDataset("shapes:n=64", { imageSize: 32 });
    let varying = 0;
    for (let i = 0; i < 64; i++) {
      const { pixels } = (await ds.get("train", i)) as Sample;
      // Compare the mean colour of the four corner 6x6 blocks: a flat background would match.
      const corner = (x0: number, y0: number): number[] => {
        const m = [0, 0, 0];
        for (let y = y0; y < y0 + 6; y++) for (let x = x0; x < x0 + 6; x++) for (let c = 0; c < 3; c++) m[c] += pixels[(y * 32 + x) * 3 + c] / 36;
        return m;
      };
      const cs = [corner(0, 0), corner(26, 0), corner(0, 26), corner(26, 26)];
      let spread = 0;
      for (const a of cs) for (const b of cs) spread = Math.max(spread, Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]));
      if (spread > 20) varying++;
    }
    expect(varying).toBeGreaterThan(48);
  });

  it("rejects bad options naming them", async () => {
    await expect(openDataset("shapes:n=0", { imageSize: 32 })).rejects.toThrow(/n=0 is invalid/);
    await expect(openDataset("shapes:colour=red", { imageSize: 32 })).rejects.toThrow(/unknown option "colour".*n, val, test, classes/);
    await expect(openDataset("shapes", { imageSize: 0 })).rejects.toThrow(/imageSize 0 is invalid/);
    const ds = await openDataset("shapes:n=10", { imageSize: 8 });
    expect(() => ds.get("train", 10)).toThrow(/out of range/);
  });
});
