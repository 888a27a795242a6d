import { describe, expect, it } from "vitest";
import { MetricsReader, parseMetricLine, parseMetrics } from "../src/lib/metrics.js";
import { latestDetection } from "../src/lib/series.js";

const enc = (s: string) => new TextEncoder().encode(s);
const train = (step: number, extra = "") => `{"kind":"train","step":${step},"loss":${1 / (step + 1)}${extra}}\n`;

describe("parseMetricLine", () => {
  it("keeps known numeric fields and drops unknown / non-finite ones", () => {
    const r = parseMetricLine('{"kind":"train","step":3,"loss":0.5,"lr":null,"future":1}');
    expect(r).toEqual({ kind: "train", step: 3, loss: 0.5 });
  });
  it("rejects malformed JSON, missing step and unknown kinds", () => {
    expect(parseMetricLine('{"kind":"train","step":')).toBeNull();
    expect(parseMetricLine('{"kind":"train"}')).toBeNull();
    expect(parseMetricLine('{"kind":"debug","step":1}')).toBeNull();
    expect(parseMetricLine("   ")).toBeNull();
  });
  it("reads eval lines", () => {
    expect(parseMetricLine('{"kind":"eval","step":10,"knnAcc":0.4,"detAuroc":0.9}')).toEqual({ kind: "eval", step: 10, knnAcc: 0.4, detAuroc: 0.9 });
  });
  it("keeps detection accuracy's chance level and the balanced accuracy", () => {
    const line = '{"kind":"eval","step":4,"detAcc":0.803,"detChance":0.8,"detBalAcc":0.51}';
    expect(parseMetricLine(line)).toEqual({ kind: "eval", step: 4, detAcc: 0.803, detChance: 0.8, detBalAcc: 0.51 });
    const records = [parseMetricLine('{"kind":"train","step":5,"detAcc":0.9,"detChance":0.79}')!, parseMetricLine(line)!];
    expect(latestDetection(records)).toEqual({ accuracy: 0.803, chance: 0.8 }); // eval wins
    expect(latestDetection(records.slice(0, 1))).toEqual({ accuracy: 0.9, chance: 0.79 });
    expect(latestDetection([])).toEqual({});
  });
});

describe("parseMetrics", () => {
  it("treats a last line without newline as partial", () => {
    const { records, rest } = parseMetrics(train(0) + train(1) + '{"kind":"train","st');
    expect(records.map((r) => r.step)).toEqual([0, 1]);
    expect(rest).toBe('{"kind":"train","st');
  });
});

describe("MetricsReader", () => {
  it("completes a partial last line on the next poll and never duplicates", () => {
    const reader = new MetricsReader();
    const full = train(0) + train(1) + train(2);
    const cut = full.length - 7;
    expect(reader.feed(enc(full.slice(0, cut))).map((r) => r.step)).toEqual([0, 1]);
    expect(reader.received).toBe(cut);
    expect(reader.feed(enc(full.slice(cut)), cut).map((r) => r.step)).toEqual([2]);
    expect(reader.records.map((r) => r.step)).toEqual([0, 1, 2]);
  });

  it("skips the known prefix of a full re-download", () => {
    const reader = new MetricsReader();
    reader.feed(enc(train(0) + train(1).slice(0, 5)));
    const added = reader.feed(enc(train(0) + train(1) + train(2)), 0);
    expect(added.map((r) => r.step)).toEqual([1, 2]);
    expect(reader.records).toHaveLength(3);
  });

  it("handles a multi-byte character split between chunks", () => {
    const reader = new MetricsReader();
    const bytes = enc('{"kind":"eval","step":4,"note":"é","knnAcc":0.5}\n');
    const split = bytes.indexOf(0xc3) + 1;
    expect(reader.feed(bytes.subarray(0, split))).toEqual([]);
    expect(reader.feed(bytes.subarray(split))).toEqual([{ kind: "eval", step: 4, knnAcc: 0.5 }]);
  });

  it("refuses a chunk that would leave a gap", () => {
    const reader = new MetricsReader();
    expect(() => reader.feed(enc(train(5)), 100)).toThrow(/gap/);
  });
});
