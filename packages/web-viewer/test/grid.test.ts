import { describe, expect, it } from "vitest";
import { makeGrid, patchAt, patchRect } from "../src/lib/grid.js";

describe("patch grid", () => {
  const g = makeGrid(32, 4);
  it("has (img/patch)^2 patches", () => {
    expect(g).toEqual({ side: 8, numPatches: 64 });
    expect(() => makeGrid(30, 4)).toThrow(/multiple/);
  });
  it("maps a click to the row-major patch index at any display size", () => {
    expect(patchAt(g, 0, 0, 320, 320)).toBe(0);
    expect(patchAt(g, 39.9, 0, 320, 320)).toBe(0);
    expect(patchAt(g, 40, 0, 320, 320)).toBe(1);
    expect(patchAt(g, 0, 40, 320, 320)).toBe(8);
    expect(patchAt(g, 319.5, 319.5, 320, 320)).toBe(63);
    expect(patchAt(g, 150, 75, 200, 100)).toBe(6 + 8 * 6);
  });
  it("returns -1 outside the image", () => {
    expect(patchAt(g, -1, 5, 320, 320)).toBe(-1);
    expect(patchAt(g, 320, 5, 320, 320)).toBe(-1);
  });
  it("round-trips with patchRect", () => {
    for (const i of [0, 9, 27, 63]) {
      const r = patchRect(g, i, 256);
      expect(patchAt(g, r.x + r.w / 2, r.y + r.h / 2, 256, 256)).toBe(i);
    }
    expect(() => patchRect(g, 64, 256)).toThrow();
  });
});
