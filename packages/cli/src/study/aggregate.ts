// From study.json to results: per data set x method x metric, each arm's mean ± std over seeds,
// and each arm's difference to the baseline arm with a 95% Welch interval and a verdict.
import { dataKey, type StudySpec } from "./spec.js";
import { mean, std, verdict, welchInterval, type Verdict } from "./stats.js";
import type { RunEval, StudyState } from "./state.js";

export interface ArmStats { n: number; mean: number; std: number; values: number[]; seeds: number[] }
export interface Comparison { arm: string; baseline: string; diff: number; lo: number | null; hi: number | null; df: number | null; verdict: Verdict }
export interface MetricResult { metric: string; arms: Record<string, ArmStats>; comparisons: Comparison[] }
export interface CellRun { arm: string; seed: number; steps?: number; stepsDone?: number; trainTime?: number; budgetSpent?: boolean; load?: [number, number]; phase: string; dir: string }
export interface Cell { dataset: string; dataKey: string; method: string; metrics: MetricResult[]; runs: CellRun[] }

export interface StudyResults {
  name: string;
  generatedAt: string;
  complete: boolean;
  budget: number;
  /** How the budget ends a run (spec.stop). */
  stop: StudySpec["stop"];
  seeds: number[];
  arms: Record<string, Record<string, unknown>>;
  baseline: string;
  recipe: Record<string, unknown>;
  engine?: string;
  machine?: string;
  /** Lowest and highest 1-minute load average seen at the start or end of a run's training. */
  load?: [number, number];
  notes: string[];
  calibration: StudyState["calibration"];
  cells: Cell[];
}

/** The metrics a run's evaluation yields, as [name, value] (occlusion as "occlusion@<fraction>"). */
export function runMetrics(r: RunEval): [string, number][] {
  const out: [string, number][] = [];
  if (r.linearProbeAcc !== undefined) out.push(["linearProbeAcc", r.linearProbeAcc]);
  if (r.knnAcc !== undefined) out.push(["knnAcc", r.knnAcc]);
  for (const [f, a] of Object.entries(r.occlusion)) out.push([`occlusion@${f}`, a]);
  if (r.detAuroc !== undefined) out.push(["detAuroc", r.detAuroc]);
  return out;
}

/** Metric order in the results (the primary first). */
export function metricOrder(name: string): number {
  if (name === "linearProbeAcc") return 0;
  if (name === "knnAcc") return 1;
  if (name.startsWith("occlusion@")) return 2 + Number(name.slice(10));
  return 10;
}

export function aggregate(state: StudyState): StudyResults {
  const spec = state.spec;
  const armNames = Object.keys(spec.arms);
  const baseline = armNames[0];
  const cells: Cell[] = [];
  for (const dataset of spec.datasets) {
    for (const method of spec.methods) {
      const runs = state.runs.filter((r) => r.dataset === dataset && r.method === method);
      const byMetric = new Map<string, Map<string, { v: number; seed: number }[]>>();
      for (const r of runs) {
        if (r.phase !== "evaluated" || !r.result) continue;
        for (const [m, v] of runMetrics(r.result)) {
          if (!Number.isFinite(v)) continue;
          const arms = byMetric.get(m) ?? new Map<string, { v: number; seed: number }[]>();
          byMetric.set(m, arms);
          arms.set(r.arm, [...(arms.get(r.arm) ?? []), { v, seed: r.seed }]);
        }
      }
      const metrics: MetricResult[] = [...byMetric.keys()].sort((a, b) => metricOrder(a) - metricOrder(b) || a.localeCompare(b)).map((metric) => {
        const perArm = byMetric.get(metric)!;
        const arms: Record<string, ArmStats> = {};
        for (const arm of armNames) {
          const xs = perArm.get(arm);
          if (!xs) continue;
          const values = xs.map((x) => x.v);
          arms[arm] = { n: values.length, mean: mean(values), std: std(values), values, seeds: xs.map((x) => x.seed) };
        }
        const comparisons: Comparison[] = [];
        const base = arms[baseline];
        for (const arm of armNames.slice(1)) {
          const a = arms[arm];
          if (!base || !a) continue;
          const ci = welchInterval(base.values, a.values);
          comparisons.push({ arm, baseline, diff: a.mean - base.mean, lo: ci?.lo ?? null, hi: ci?.hi ?? null, df: ci?.df ?? null, verdict: verdict(ci) });
        }
        return { metric, arms, comparisons };
      });
      cells.push({
        dataset, dataKey: dataKey(dataset), method, metrics,
        runs: runs.map((r) => ({ arm: r.arm, seed: r.seed, steps: r.steps, stepsDone: r.stepsDone, trainTime: r.trainTime, budgetSpent: r.budgetSpent, load: r.load, phase: r.phase, dir: r.dir })),
      });
    }
  }
  const loads = state.runs.flatMap((r) => r.load ?? []);
  return {
    name: spec.name, machine: state.machine, ...(loads.length ? { load: [Math.min(...loads), Math.max(...loads)] as [number, number] } : {}), generatedAt: new Date().toISOString(), complete: state.runs.every((r) => r.phase === "evaluated" || r.phase === "failed"),
    budget: spec.budget, stop: spec.stop, seeds: spec.seeds, arms: spec.arms, baseline, recipe: spec.recipe, engine: state.engine, notes: state.notes,
    calibration: state.calibration, cells,
  };
}

const METRIC_TITLES: Record<string, string> = {
  linearProbeAcc: "Linear-probe accuracy (%)",
  knnAcc: "kNN accuracy (%)",
  detAuroc: "Detection AUROC (×100; runs with a detection head)",
};

export function metricTitle(m: string): string {
  if (m.startsWith("occlusion@")) return `Occlusion: probe accuracy (%) with ${Math.round(Number(m.slice(10)) * 100)}% of the test patches dropped`;
  return METRIC_TITLES[m] ?? m;
}

/** Points (×100) with one decimal; a signed form for differences. */
const pts = (x: number) => (x * 100).toFixed(1);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)}`;

/** "41.2 ± 1.3 (n=3)"; "41.2 (n=1)" without a spread. */
export function fmtArm(s: ArmStats | undefined): string {
  if (!s) return "–";
  return Number.isFinite(s.std) ? `${pts(s.mean)} ± ${pts(s.std)} (n=${s.n})` : `${pts(s.mean)} (n=${s.n})`;
}

export function fmtComparison(c: Comparison | undefined): string {
  if (!c) return "–";
  return c.lo === null || c.hi === null ? `${signed(c.diff)} (no CI: < 2 seeds per arm or no spread)` : `${signed(c.diff)} [${signed(c.lo)}, ${signed(c.hi)}]`;
}

/** The markdown table of one metric over all cells (one row per data set x method). */
export function metricTable(res: StudyResults, metric: string): string {
  const arms = Object.keys(res.arms);
  const others = arms.slice(1);
  const head = ["data set", "method", ...arms, ...others.flatMap((a) => [`${a} − ${res.baseline} (95% CI)`, "verdict"])];
  const rows: string[][] = [];
  for (const cell of res.cells) {
    const m = cell.metrics.find((x) => x.metric === metric);
    if (!m) continue;
    rows.push([cell.dataKey, cell.method, ...arms.map((a) => fmtArm(m.arms[a])),
      ...others.flatMap((a) => { const c = m.comparisons.find((x) => x.arm === a); return [fmtComparison(c), c?.verdict ?? "–"]; })]);
  }
  if (rows.length === 0) return "";
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** Steps and seconds per data set x method x arm (means over seeds). */
export function stepsTable(res: StudyResults): string {
  const lines = ["| data set | method | arm | scheduled steps | steps done (mean) | training s (mean) | runs ended by budget |", "|---|---|---|---|---|---|---|"];
  for (const cell of res.cells) {
    for (const arm of Object.keys(res.arms)) {
      const rs = cell.runs.filter((r) => r.arm === arm);
      const done = rs.filter((r) => r.stepsDone !== undefined);
      const sched = res.calibration[`${cell.dataKey}-${cell.method}-${arm}`]?.steps;
      lines.push(`| ${cell.dataKey} | ${cell.method} | ${arm} | ${sched ?? "–"} | ${done.length ? mean(done.map((r) => r.stepsDone!)).toFixed(0) : "–"} | ` +
        `${done.length ? mean(done.map((r) => r.trainTime ?? NaN)).toFixed(1) : "–"} | ${rs.filter((r) => r.budgetSpent).length}/${rs.length} |`);
    }
  }
  return lines.join("\n");
}

/** results.md: what was compared, how, the tables and the charts. */
export function resultsMarkdown(res: StudyResults, charts: string[], command?: string): string {
  const arms = Object.entries(res.arms).map(([n, o]) => `\`${n}\` ${JSON.stringify(o)}`).join(", ");
  const metrics = [...new Set(res.cells.flatMap((c) => c.metrics.map((m) => m.metric)))].sort((a, b) => metricOrder(a) - metricOrder(b));
  const out = [
    `# Study \`${res.name}\`${res.complete ? "" : " (incomplete: some runs are not evaluated yet)"}`,
    "",
    ...(command ? ["Command:", "", "```sh", command, "```", ""] : []),
    `- Budget: ${res.budget} s of training steps per run (evaluation excluded), runs one at a time; engine ${res.engine ?? "?"}. ` +
      (res.stop === "budget" ? "A run stops at its scheduled steps or at the budget, whichever comes first."
        : "Each run trains the steps that its configuration's calibrated pace (arms timed in alternating rounds) fits in the budget, however long load makes them take."),
    ...(res.machine ? [`- Machine: ${res.machine}${res.load ? `; 1-minute load average ${res.load[0]}–${res.load[1]} at the start and end of each run's training (above the core count: other work shared the cores)` : ""}.`] : []),
    `- Seeds: ${res.seeds.join(", ")}. Arms: ${arms}; baseline \`${res.baseline}\`.`,
    `- Recipe (every arm): \`${JSON.stringify(res.recipe)}\`.`,
    `- Differences are ${Object.keys(res.arms).slice(1).map((a) => `${a} − ${res.baseline}`).join(", ")} in points, with a 95% Welch t interval over seeds. ` +
      "Verdict: interval above 0 = reproduced, below 0 = not reproduced, spanning 0 = inconclusive.",
    ...res.notes.map((n) => `- Note: ${n}`),
    "",
  ];
  for (const m of metrics) {
    const t = metricTable(res, m);
    if (t) out.push(`## ${metricTitle(m)}`, "", t, "");
  }
  out.push("## Steps and time", "", stepsTable(res), "");
  const failed = res.cells.flatMap((c) => c.runs.filter((r) => r.phase === "failed").map((r) => `${c.dataKey}-${c.method}-${r.arm}-s${r.seed}`));
  if (failed.length) out.push(`Failed runs (left out of the tables): ${failed.join(", ")}.`, "");
  if (charts.length) out.push("## Charts", "", ...charts.map((c) => `![${c}](${c})`), "");
  return out.join("\n");
}
