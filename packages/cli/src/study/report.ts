// Writes a study's results: results.json, results.md and the PNG charts.
import * as path from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../atomic.js";
import { Run } from "../run.js";
import { aggregate, resultsMarkdown, type StudyResults } from "./aggregate.js";
import { ARM_COLORS, barChartSvg, lineChartSvg, svgToPng, type LineSeries } from "./charts.js";
import type { StudyState } from "./state.js";

const METHOD_COLORS: Record<string, string> = { mocov3: "#4c72b0", dino: "#c44e52", simclr: "#55a868" };

/** Chart SVGs by file name (without extension), from results and the runs' metrics. */
export function studyCharts(dir: string, state: StudyState, res: StudyResults): Record<string, string> {
  const arms = Object.keys(state.spec.arms);
  const armColor = (a: string) => ARM_COLORS[arms.indexOf(a) % ARM_COLORS.length];
  const out: Record<string, string> = {};
  const armLegend = arms.map((a) => ({ label: a, color: armColor(a) }));

  const stat = (cell: StudyResults["cells"][number], metric: string, arm: string) => cell.metrics.find((m) => m.metric === metric)?.arms[arm];
  const bars = (metric: string) => res.cells.map((c) => ({
    label: `${c.dataKey}\n${c.method}`,
    bars: arms.map((a) => ({ label: a, mean: stat(c, metric, a)?.mean ?? NaN, std: stat(c, metric, a)?.std, color: armColor(a) })),
  }));
  if (res.cells.some((c) => c.metrics.some((m) => m.metric === "linearProbeAcc"))) {
    out["accuracy"] = barChartSvg({ title: `Linear-probe accuracy at ${res.budget} s per run (mean ± std over seeds)`, yLabel: "accuracy (%)", groups: bars("linearProbeAcc"), legend: armLegend });
  }
  if (res.cells.some((c) => c.metrics.some((m) => m.metric === "knnAcc"))) {
    out["knn"] = barChartSvg({ title: `kNN accuracy at ${res.budget} s per run (mean ± std over seeds)`, yLabel: "accuracy (%)", groups: bars("knnAcc"), legend: armLegend });
  }

  // Occlusion: mean probe accuracy against the fraction of test patches dropped (0 = clean).
  const fractions = [...state.spec.eval.occlusion].sort((a, b) => a - b);
  for (const key of [...new Set(res.cells.map((c) => c.dataKey))]) {
    const series: LineSeries[] = [];
    for (const c of res.cells.filter((x) => x.dataKey === key)) {
      arms.forEach((a, ai) => {
        const pts: [number, number][] = [[0, stat(c, "linearProbeAcc", a)?.mean ?? NaN], ...fractions.map((fr): [number, number] => [fr, stat(c, `occlusion@${fr}`, a)?.mean ?? NaN])];
        series.push({ label: `${c.method} ${a}`, color: METHOD_COLORS[c.method] ?? "#777", points: pts, dashed: ai === 0 });
      });
    }
    if (series.some((s) => s.points.some((p) => Number.isFinite(p[1])))) {
      out[`occlusion-${key}`] = lineChartSvg({
        title: `${key}: probe accuracy with test patches dropped`, xLabel: "fraction of patches dropped", yLabel: "accuracy (%)", series,
        legend: [...Object.entries(METHOD_COLORS).filter(([m]) => state.spec.methods.includes(m as never)).map(([m, color]) => ({ label: m, color })),
          ...arms.map((a, ai) => ({ label: `${a}${ai === 0 ? " (dashed)" : ""}`, color: "#555", dashed: ai === 0 }))],
      });
    }
  }

  // Curves against time: kNN accuracy of the periodic evaluations, one line per run.
  for (const c of res.cells) {
    const series: LineSeries[] = [];
    for (const r of c.runs) {
      const pts = new Run(path.join(dir, r.dir)).metrics().flatMap((m): [number, number][] =>
        m.kind === "eval" && typeof m.trainTime === "number" && typeof m.knnAcc === "number" ? [[m.trainTime, m.knnAcc]] : []);
      if (pts.length) series.push({ label: `${r.arm} seed ${r.seed}`, color: armColor(r.arm), points: pts });
    }
    if (series.length) {
      out[`curves-${c.dataKey}-${c.method}`] = lineChartSvg({
        title: `${c.dataKey} / ${c.method}: kNN accuracy during training`, xLabel: "seconds of training steps", yLabel: "kNN accuracy (%)", series,
        legend: armLegend.map((l) => ({ ...l, label: `${l.label} (a line per seed)` })),
      });
    }
  }
  return out;
}

/** Writes results.json, results.md and charts (PNG) into the study directory; returns the file names. */
export async function writeReport(dir: string, state: StudyState): Promise<string[]> {
  const res = aggregate(state);
  const svgs = studyCharts(dir, state, res);
  const pngs: string[] = [];
  for (const [name, svg] of Object.entries(svgs)) {
    writeFileAtomic(path.join(dir, `${name}.png`), await svgToPng(svg));
    pngs.push(`${name}.png`);
  }
  writeJsonAtomic(path.join(dir, "results.json"), res);
  writeFileAtomic(path.join(dir, "results.md"), resultsMarkdown(res, pngs, state.command));
  return ["results.json", "results.md", ...pngs];
}
