import { describe, expect, it } from "vitest";
import type { MetricRecord } from "../src/lib/metrics.js";
import { detectionVerdict, verdictText } from "../src/lib/verdict.js";

const ev = (step: number, detAuroc?: number): MetricRecord => ({ kind: "eval", step, knnAcc: 0.3, ...(detAuroc === undefined ? {} : { detAuroc }) });

describe("detectionVerdict", () => {
  it("reads the latest held-out AUROC, not the training batches'", () => {
    const recs: MetricRecord[] = [ev(100, 0.52), { kind: "train", step: 150, detAuroc: 0.9 }, ev(200, 0.83), { kind: "train", step: 201, detAuroc: 0.4 }];
    expect(detectionVerdict(recs)).toEqual({ kind: "clear", auroc: 0.83, step: 200 });
  });

  it("says when detection has not emerged or is weak", () => {
    expect(detectionVerdict([ev(200, 0.5)]).kind).toBe("not-emerged");
    expect(detectionVerdict([ev(200, 0.59)]).kind).toBe("not-emerged");
    expect(detectionVerdict([ev(200, 0.6)]).kind).toBe("weak");
    expect(detectionVerdict([ev(200, 0.75)]).kind).toBe("clear");
    expect(verdictText(detectionVerdict([ev(200, 0.498)]))).toMatch(/^Detection has not emerged in this run: held-out detection AUROC 0\.50 at step 200/);
    expect(verdictText(detectionVerdict([ev(50, 0.7)]))).toMatch(/emerging but weak: .*0\.70 at step 50/);
  });

  it("has nothing to say without a held-out evaluation (exports, runs that just started, dilemma-prob 0)", () => {
    expect(detectionVerdict([])).toEqual({ kind: "none" });
    expect(detectionVerdict([ev(100), { kind: "train", step: 101, detAuroc: 0.5 }])).toEqual({ kind: "none" });
    expect(detectionVerdict([ev(100, NaN)])).toEqual({ kind: "none" });
    expect(verdictText({ kind: "none" })).toBe("");
  });
});
