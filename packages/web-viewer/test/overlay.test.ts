import { describe, expect, it } from "vitest";
import { parseMetrics, type MetricRecord } from "../src/lib/metrics.js";
import { colorsByKey, configLabel, OVERLAY_METRICS, overlayData, runsWithData } from "../src/lib/overlay.js";

const knn = OVERLAY_METRICS.find((m) => m.id === "knnAcc")!;
const loss = OVERLAY_METRICS.find((m) => m.id === "loss")!;

function recs(lines: object[]): MetricRecord[] {
  return parseMetrics(lines.map((l) => JSON.stringify(l)).join("\n") + "\n").records;
}

// Two study runs: the sparse one does more steps in the same seconds.
const plain = recs([
  { kind: "train", step: 1, trainTime: 0.5, loss: 3 }, { kind: "eval", step: 1, trainTime: 0.5, knnAcc: 0.2 },
  { kind: "train", step: 2, trainTime: 1, loss: 2.5 }, { kind: "eval", step: 2, trainTime: 1, knnAcc: 0.3 },
]);
const sparse = recs([
  { kind: "train", step: 2, trainTime: 0.5, loss: 2.9 }, { kind: "eval", step: 2, trainTime: 0.5, knnAcc: 0.25 },
  { kind: "train", step: 4, trainTime: 1.1, loss: 2.2 }, { kind: "eval", step: 4, trainTime: 1.1, knnAcc: 0.4 },
]);

describe("overlaying runs", () => {
  it("keeps trainTime when parsing metrics (the equal-budget clock)", () => {
    expect(plain[1]).toEqual({ kind: "eval", step: 1, trainTime: 0.5, knnAcc: 0.2 });
  });

  it("aligns several runs on one x axis (seconds of training), null where a run has no point", () => {
    const data = overlayData([{ id: "a", label: "a", records: plain }, { id: "b", label: "b", records: sparse }], knn, "trainTime");
    expect(data).toEqual([[0.5, 1, 1.1], [0.2, 0.3, null], [0.25, null, 0.4]]);
    expect(runsWithData(data)).toEqual([true, true]);
  });

  it("aligns by step, and reads the chosen record kind only", () => {
    const data = overlayData([{ id: "a", label: "a", records: plain }, { id: "b", label: "b", records: sparse }], loss, "step");
    expect(data).toEqual([[1, 2, 4], [3, 2.5, null], [null, 2.9, 2.2]]);
  });

  it("leaves out points without the x field, and flags runs with no data at all", () => {
    const old = recs([{ kind: "eval", step: 5, knnAcc: 0.5 }]);
    const data = overlayData([{ id: "old", label: "old", records: old }, { id: "a", label: "a", records: plain }], knn, "trainTime");
    expect(data[0]).toEqual([0.5, 1]);
    expect(runsWithData(data)).toEqual([false, true]);
    expect(overlayData([{ id: "old", label: "old", records: old }], knn, "step")).toEqual([[5], [0.5]]);
  });

  it("labels a configuration without its seed, so a study arm shares one colour", () => {
    const cfg = (seed: number, tokenDrop: number, dilemmaProb: number) => ({ method: "mocov3", seed, data: { spec: "cifar10:/data/c" }, dilemma: { tokenDrop, dilemmaProb } });
    expect(configLabel(cfg(0, 0.75, 0.2))).toBe("mocov3 · cifar10 · drop 0.75 · p 0.2");
    expect(configLabel(cfg(1, 0.75, 0.2))).toBe(configLabel(cfg(0, 0.75, 0.2)));
    expect(configLabel(cfg(0, 0, 0))).toBe("mocov3 · cifar10 · plain");
    expect(configLabel(null)).toBe("");
    const colors = colorsByKey(["x", "y", "x", "z"]);
    expect([...colors.keys()]).toEqual(["x", "y", "z"]);
    expect(new Set(colors.values()).size).toBe(3);
  });
});
