// Overlaying the curves of several runs on one chart (the Compare tab): which metrics can be
// overlaid, a label per configuration (runs differing only in seed share it, and a colour), and
// the aligned columns uPlot needs (one x column, one column per run, null where a run has no
// point at that x).
import type { MetricRecord } from "./metrics.js";

export interface OverlayMetric { id: string; label: string; source: "train" | "eval"; key: string; unit?: "percent" }

export const OVERLAY_METRICS: OverlayMetric[] = [
  { id: "knnAcc", label: "kNN accuracy (eval)", source: "eval", key: "knnAcc", unit: "percent" },
  { id: "detAuroc", label: "Detection AUROC (eval)", source: "eval", key: "detAuroc", unit: "percent" },
  { id: "loss", label: "Loss (train)", source: "train", key: "loss" },
  { id: "sslLoss", label: "SSL loss (train)", source: "train", key: "sslLoss" },
  { id: "dilemmaLoss", label: "Detection loss (train)", source: "train", key: "dilemmaLoss" },
  { id: "detAcc", label: "Detection accuracy (train)", source: "train", key: "detAcc", unit: "percent" },
];

/** x axis: optimisation step, or seconds of training steps (`trainTime`: equal-budget comparisons). */
export type OverlayX = "step" | "trainTime";

export interface OverlayRun { id: string; label: string; records: readonly MetricRecord[] }

/**
 * A run's configuration without its seed, e.g. "mocov3 · shapes · drop 0.75 · p 0.2": the
 * runs of one study arm share it. Unknown config shapes give "".
 */
export function configLabel(config: unknown): string {
  const c = (config && typeof config === "object" ? config : {}) as {
    method?: unknown; data?: { spec?: unknown }; dilemma?: { tokenDrop?: unknown; dilemmaProb?: unknown };
  };
  const parts: string[] = [];
  if (typeof c.method === "string") parts.push(c.method);
  if (typeof c.data?.spec === "string") parts.push(c.data.spec.split(":")[0]);
  const d = c.dilemma;
  if (d && typeof d.tokenDrop === "number" && typeof d.dilemmaProb === "number") {
    parts.push(d.dilemmaProb === 0 && d.tokenDrop === 0 ? "plain" : `drop ${d.tokenDrop} · p ${d.dilemmaProb}`);
  }
  return parts.join(" · ");
}

const PALETTE = ["#4f7cff", "#e8793b", "#22a39f", "#d6336c", "#8a63d2", "#a0783c", "#3b9e4a", "#6b7280", "#c2a400", "#0f766e"];

/** A colour per distinct key, in order of first appearance (cycling after 10). */
export function colorsByKey(keys: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keys) if (!out.has(k)) out.set(k, PALETTE[out.size % PALETTE.length]);
  return out;
}

/**
 * Aligned columns: [xs, run 1 values, run 2 values, ...]. xs are the sorted distinct x values of
 * every run's points; a run without a point at an x has null there (the chart spans the gap). A
 * point without the x field (old runs have no trainTime) is left out. An x logged twice keeps
 * the later value.
 */
export function overlayData(runs: readonly OverlayRun[], metric: OverlayMetric, x: OverlayX): (number | null)[][] {
  const perRun = runs.map((r) => {
    const m = new Map<number, number>();
    for (const rec of r.records) {
      if (rec.kind !== metric.source) continue;
      const fields = rec as unknown as Record<string, unknown>;
      const v = fields[metric.key], xv = x === "step" ? rec.step : fields.trainTime;
      if (typeof v === "number" && typeof xv === "number") m.set(xv, v);
    }
    return m;
  });
  const xs = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  return [xs, ...perRun.map((m) => xs.map((xv) => m.get(xv) ?? null))];
}

/** Runs of a chart that have at least one point (others are listed as "no data"). */
export function runsWithData(data: (number | null)[][]): boolean[] {
  return data.slice(1).map((col) => col.some((v) => v !== null));
}
