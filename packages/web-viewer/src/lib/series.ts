// Metric records -> column arrays for uPlot (x = step; null where a line lacks the field).
import type { MetricRecord } from "./metrics.js";

export interface ChartSpec {
  id: string;
  title: string;
  kind: "train" | "eval" | "both";
  series: { key: string; label: string; source: "train" | "eval"; color: string }[];
  /** Axis formatting hint. */
  unit?: "percent" | "sci";
}

export const CHARTS: ChartSpec[] = [
  {
    id: "losses", title: "Losses", kind: "train",
    series: [
      { key: "loss", label: "loss", source: "train", color: "#4f7cff" },
      { key: "sslLoss", label: "sslLoss", source: "train", color: "#22a39f" },
      { key: "dilemmaLoss", label: "dilemmaLoss", source: "train", color: "#e8793b" },
    ],
  },
  {
    id: "detection", title: "Misplacement detection", kind: "both", unit: "percent",
    series: [
      { key: "detAcc", label: "train acc", source: "train", color: "#e8793b" },
      { key: "detAuroc", label: "train AUROC", source: "train", color: "#f2b441" },
      { key: "detAcc", label: "eval acc", source: "eval", color: "#b14fd6" },
      // accuracy means little alone: answering "in place" everywhere scores the chance level
      { key: "detChance", label: "eval acc at chance", source: "eval", color: "#8a8f98" },
      { key: "detBalAcc", label: "eval balanced acc", source: "eval", color: "#2f9e44" },
      { key: "detAuroc", label: "eval AUROC", source: "eval", color: "#d6336c" },
    ],
  },
  { id: "knn", title: "kNN accuracy", kind: "eval", unit: "percent", series: [{ key: "knnAcc", label: "kNN acc", source: "eval", color: "#22a39f" }] },
  { id: "lr", title: "Learning rate", kind: "train", unit: "sci", series: [{ key: "lr", label: "lr", source: "train", color: "#4f7cff" }] },
  { id: "speed", title: "Throughput (img/s)", kind: "train", series: [{ key: "imgPerSec", label: "img/s", source: "train", color: "#8a8f98" }] },
];

/**
 * Aligned data for one chart: x = sorted distinct steps of the records feeding it, one column per
 * series. A step logged twice (e.g. after a resume) keeps the later value.
 */
export function chartData(spec: ChartSpec, records: readonly MetricRecord[]): (number | null)[][] {
  const rows = new Map<number, (number | null)[]>();
  spec.series.forEach((s, j) => {
    for (const r of records) {
      if (r.kind !== s.source) continue;
      const v = (r as unknown as Record<string, unknown>)[s.key];
      if (typeof v !== "number") continue;
      let row = rows.get(r.step);
      if (!row) rows.set(r.step, (row = spec.series.map(() => null)));
      row[j] = v;
    }
  });
  const steps = [...rows.keys()].sort((a, b) => a - b);
  return [steps, ...spec.series.map((_, j) => steps.map((s) => rows.get(s)![j]))];
}

/** Series of a chart that have at least one value (others are hidden, e.g. no eval yet). */
export function presentSeries(data: (number | null)[][]): boolean[] {
  return data.slice(1).map((col) => col.some((v) => v !== null));
}

/** Latest value of a field among records of a kind, for the headline numbers. */
export function latest(records: readonly MetricRecord[], kind: "train" | "eval", key: string): number | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as unknown as Record<string, unknown>;
    if (r.kind === kind && typeof r[key] === "number") return r[key] as number;
  }
  return undefined;
}

/**
 * The latest detection accuracy with its chance level (from one line, so they match): the eval
 * line's when there is one, else the train line's. chance is absent in runs logged before it was.
 */
export function latestDetection(records: readonly MetricRecord[]): { accuracy?: number; chance?: number } {
  for (const kind of ["eval", "train"] as const) {
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i];
      if (r.kind === kind && typeof r.detAcc === "number") return { accuracy: r.detAcc, chance: r.detChance };
    }
  }
  return {};
}
