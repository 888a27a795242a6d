import { describe, expect, it } from "vitest";
import { applyEdits, balancedDetectionAccuracy, detectionAccuracy, detectionChance, identityPositions, keptPositions, slotsByPatch } from "../src/lib/corruption.js";

describe("applyEdits", () => {
  it("swaps the positions of two kept patches and labels both misplaced", () => {
    const p = applyEdits(identityPositions(6), [{ kind: "swap", a: 1, b: 4 }]);
    expect([...p.realPos]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...p.inputPos]).toEqual([0, 4, 2, 3, 1, 5]);
    expect([...p.labels]).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it("swapping the same pair twice restores the clean input", () => {
    const p = applyEdits(identityPositions(4), [{ kind: "swap", a: 0, b: 3 }, { kind: "swap", a: 3, b: 0 }]);
    expect([...p.inputPos]).toEqual([0, 1, 2, 3]);
    expect([...p.labels]).toEqual([0, 0, 0, 0]);
  });

  it("addresses patches by grid position, not by token slot", () => {
    // Kept patches 7, 2, 5 sit in slots 0, 1, 2.
    const p = applyEdits(keptPositions(9, [7, 2, 5]), [{ kind: "swap", a: 2, b: 5 }, { kind: "assign", patch: 7, pos: 0 }]);
    expect([...p.inputPos]).toEqual([0, 5, 2]);
    expect([...p.labels]).toEqual([1, 1, 1]);
  });

  it("assigning a patch its own position is not a corruption", () => {
    const p = applyEdits(identityPositions(4), [{ kind: "assign", patch: 2, pos: 2 }]);
    expect([...p.labels]).toEqual([0, 0, 0, 0]);
  });

  it("keeps the base's own corruption and does not mutate it", () => {
    const base = { numPatches: 4, realPos: Int32Array.from([0, 1]), inputPos: Int32Array.from([3, 1]), labels: Float32Array.from([1, 0]) };
    const p = applyEdits(base, [{ kind: "swap", a: 0, b: 1 }]);
    expect([...p.inputPos]).toEqual([1, 3]);
    expect([...base.inputPos]).toEqual([3, 1]);
  });

  it("rejects edits of dropped patches and positions off the grid", () => {
    expect(() => applyEdits(keptPositions(9, [0, 1]), [{ kind: "swap", a: 0, b: 8 }])).toThrow(/dropped/);
    expect(() => applyEdits(identityPositions(4), [{ kind: "assign", patch: 0, pos: 4 }])).toThrow(/outside/);
  });
});

describe("slotsByPatch / detectionAccuracy", () => {
  it("maps grid cells to token slots with -1 for dropped cells", () => {
    expect([...slotsByPatch(keptPositions(5, [3, 0]))]).toEqual([1, -1, -1, 0, -1]);
  });
  it("thresholds at 0.5", () => {
    expect(detectionAccuracy([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1])).toBe(0.5);
    expect(detectionAccuracy([], [])).toBeNaN();
    expect(() => detectionAccuracy([0.1], [])).toThrow();
  });
});

describe("detection accuracy beside its chance level", () => {
  const labels = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]; // p = 0.2
  it("a head that detects nothing: accuracy = chance = 80%, balanced 50%", () => {
    const nothing = labels.map(() => 0.1);
    expect(detectionAccuracy(nothing, labels)).toBeCloseTo(0.8);
    expect(detectionChance(labels)).toBeCloseTo(0.8);
    expect(balancedDetectionAccuracy(nothing, labels)).toBeCloseTo(0.5);
  });
  it("a perfect head: balanced 100%; one class only: NaN", () => {
    expect(balancedDetectionAccuracy(labels.map((l) => (l ? 0.9 : 0.2)), labels)).toBe(1);
    expect(balancedDetectionAccuracy([0.9, 0.1], [0, 0])).toBeNaN();
    expect(detectionChance([])).toBeNaN();
    expect(detectionChance([1, 1, 1, 0])).toBe(0.75);
  });
});
