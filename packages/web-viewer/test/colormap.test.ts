import { describe, expect, it } from "vitest";
import { cssColor, heatColor, legendGradient, rescale } from "../src/lib/colormap.js";

const lum = ([r, g, b]: number[]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

describe("heatColor", () => {
  it("hits the ramp's end points", () => {
    expect(heatColor(0).slice(0, 3)).toEqual([66, 10, 104]);
    expect(heatColor(1).slice(0, 3)).toEqual([252, 255, 164]);
  });
  it("gets brighter and more opaque as p grows", () => {
    const ps = [0, 0.2, 0.4, 0.6, 0.8, 1];
    const cols = ps.map(heatColor);
    for (let i = 1; i < cols.length; i++) {
      expect(lum(cols[i])).toBeGreaterThan(lum(cols[i - 1]));
      expect(cols[i][3]).toBeGreaterThan(cols[i - 1][3]);
    }
  });
  it("clamps out-of-range values and makes NaN transparent", () => {
    expect(heatColor(-3)).toEqual(heatColor(0));
    expect(heatColor(7)).toEqual(heatColor(1));
    expect(heatColor(NaN)[3]).toBe(0);
  });
  it("formats CSS", () => {
    expect(cssColor([1, 2, 3, 0.5])).toBe("rgba(1, 2, 3, 0.5)");
    expect(legendGradient(2)).toMatch(/^linear-gradient\(to right, rgb\(66, 10, 104\) 0.0%, .*100.0%\)$/);
  });
  it("rescales to a view's range", () => {
    expect(rescale(0.45, 0.4, 0.5)).toBeCloseTo(0.5);
    expect(rescale(0.3, 0.4, 0.5)).toBe(0);
    expect(rescale(0.9, 0.4, 0.5)).toBe(1);
    expect(rescale(0.4, 0.4, 0.4)).toBe(0.5);
  });
});
