import { describe, expect, it } from "vitest";
import { gaussianBlur, shiftHue } from "../../src/data/augment.js";
import { permutation, Rng } from "../../src/data/prng.js";
import { cropResizeToPlanar, resizeCoverRgb } from "../../src/data/resample.js";

describe("resampling", () => {
  it("averages when shrinking and keeps flat colours exact", () => {
    // A 16x16 checkerboard of 0/200 shrunk to 2x2 comes out near its mean (point sampling would
    // give 0 or 200).
    const src = new Uint8Array(16 * 16 * 3);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) src.fill((x + y) % 2 ? 200 : 0, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
    for (const v of resizeCoverRgb(src, 16, 16, 3, 2)) expect(Math.abs(v - 100)).toBeLessThan(6);
    const grey = new Uint8Array(28 * 28).fill(37);
    const up = resizeCoverRgb(grey, 28, 28, 1, 32);
    expect(up.length).toBe(32 * 32 * 3);
    expect(up.every((v) => v === 37)).toBe(true);
  });

  it("crops the requested rectangle, centre-crops to a square, and flips", () => {
    // 8x4 image: column x has red = 10 * x.
    const src = new Uint8Array(8 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) src[(y * 8 + x) * 3] = 10 * x;
    const out = new Float32Array(3 * 4 * 4);
    cropResizeToPlanar(src, 8, 4, { x: 2, y: 0, w: 4, h: 4 }, 4, 4, false, out, 0);
    expect(Array.from(out.subarray(0, 4)).map((v) => Math.round(v * 255))).toEqual([20, 30, 40, 50]);
    cropResizeToPlanar(src, 8, 4, { x: 2, y: 0, w: 4, h: 4 }, 4, 4, true, out, 0);
    expect(Array.from(out.subarray(0, 4)).map((v) => Math.round(v * 255))).toEqual([50, 40, 30, 20]);
    const cover = resizeCoverRgb(src, 8, 4, 3, 4); // centre square = columns 2..5
    expect([cover[0], cover[3], cover[6], cover[9]]).toEqual([20, 30, 40, 50]);
  });
});

describe("colour ops", () => {
  it("blur keeps flat images flat and spreads an impulse with unit mass", () => {
    const S = 9;
    const flat = new Float32Array(3 * S * S).fill(0.3);
    gaussianBlur(flat, 0, S, 1.2);
    flat.forEach((v) => expect(v).toBeCloseTo(0.3, 5));
    const imp = new Float32Array(3 * S * S);
    imp[4 * S + 4] = 1;
    gaussianBlur(imp, 0, S, 1.0);
    const plane = imp.subarray(0, S * S);
    expect(plane.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(plane[4 * S + 4]).toBeLessThan(0.3);
    expect(plane[4 * S + 5]).toBeCloseTo(plane[5 * S + 4], 6); // isotropic
    expect(plane[4 * S + 5]).toBeCloseTo(plane[4 * S + 3], 6);
  });

  it("hue rotation by 1/3 turn maps red to green and leaves grey alone", () => {
    // planar: 2 pixels, (red, grey)
    const img = new Float32Array([1, 0.5, 0, 0.5, 0, 0.5]);
    shiftHue(img, 0, 2, 1 / 3);
    expect(Array.from(img).map((v) => Math.round(v * 1000) / 1000)).toEqual([0, 0.5, 1, 0.5, 0, 0.5]);
  });
});

describe("counter-based PRNG", () => {
  it("is a pure function of its key, uniform enough, and permutations are permutations", () => {
    const a = new Rng(1, 2, 3);
    const b = new Rng(1, 2, 3);
    const c = new Rng(1, 2, 4);
    const xs = Array.from({ length: 10000 }, () => a.next());
    expect(Array.from({ length: 10000 }, () => b.next())).toEqual(xs);
    expect(c.next()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    const bins = new Array(10).fill(0);
    for (const x of xs) bins[Math.floor(x * 10)]++;
    for (const n of bins) expect(Math.abs(n - 1000)).toBeLessThan(150);
    const p = permutation(1000, 5, 6);
    expect(new Set(p).size).toBe(1000);
    expect(Array.from(p)).toEqual(Array.from(permutation(1000, 5, 6)));
    expect(Array.from(p)).not.toEqual(Array.from(permutation(1000, 5, 7)));
  });
});
