// The training panel: headline numbers, one uPlot chart per metric group, the config summary,
// and live updates (metrics.jsonl polled every 2 s, only new bytes fetched).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { MetricsReader, type MetricRecord } from "../lib/metrics.js";
import { pollMetrics } from "../lib/metricsFetch.js";
import { CHARTS, chartData, latest, latestDetection, presentSeries, type ChartSpec } from "../lib/series.js";
import { flattenConfig } from "../lib/config.js";
import { fetchJson, type RunInfo, type RunStatus } from "../lib/source.js";
import { fmt, h, notice, pct, replace } from "./dom.js";

const POLL_MS = 2000;
const FINISHED = new Set(["done", "stopped", "failed"]);

export interface CurvesPanel {
  el: HTMLElement;
  records(): readonly MetricRecord[];
  dispose(): void;
}

/** Detection accuracy means little alone (80% at p = 0.2 detects nothing): label it with its chance level. */
function detectionCard(recs: readonly MetricRecord[]): [string, string] {
  const d = latestDetection(recs);
  return [d.chance === undefined ? "detection acc" : `detection acc (chance ${pct(d.chance)})`, pct(d.accuracy)];
}

function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function makeChart(spec: ChartSpec, data: (number | null)[][], host: HTMLElement): uPlot {
  const axis = { stroke: themeColor("--muted"), grid: { stroke: themeColor("--grid"), width: 1 }, ticks: { stroke: themeColor("--grid") } };
  const yFmt = spec.unit === "percent" ? (_: uPlot, vals: number[]) => vals.map((v) => `${Math.round(v * 100)}%`)
    : spec.unit === "sci" ? (_: uPlot, vals: number[]) => vals.map((v) => (v === 0 ? "0" : v.toExponential(0)))
      : undefined;
  const opts: uPlot.Options = {
    width: Math.max(240, host.clientWidth),
    height: 200,
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    scales: {
      x: { time: false },
      // Fractions stay within [0, 1] with some headroom, and a flat line still gets a readable range.
      ...(spec.unit === "percent" ? { y: { range: (_u: uPlot, lo: number, hi: number): uPlot.Range.MinMax => {
        const a = Math.max(0, Math.floor((lo - 0.02) * 10) / 10), b = Math.min(1, Math.ceil((hi + 0.02) * 10) / 10);
        return [a, Math.max(b, a + 0.1)];
      } } } : {}),
    },
    axes: [{ ...axis, label: "step", labelSize: 18 }, { ...axis, size: 56, ...(yFmt ? { values: yFmt } : {}) }],
    series: [
      { label: "step" },
      ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: false } })),
    ],
  };
  return new uPlot(opts, data as uPlot.AlignedData, host);
}

export function curvesPanel(run: RunInfo, onStatus: (s: RunStatus | undefined) => void, onRecords: (r: readonly MetricRecord[]) => void): CurvesPanel {
  const el = h("section", { class: "panel curves", "data-testid": "curves" });
  const stats = h("div", { class: "stats" });
  const grid = h("div", { class: "chart-grid" });
  const body = h("div", { class: "curves-body" });
  const configBox = h("details", { class: "card config", open: true }, h("summary", {}, "Configuration"));
  replace(el, stats, body, configBox);
  replace(body, notice("loading", "Loading metrics…"));

  let reader = new MetricsReader();
  let status: RunStatus | undefined = run.status;
  const charts = new Map<string, { plot: uPlot; host: HTMLElement; card: HTMLElement }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const resize = new ResizeObserver(() => {
    for (const { plot, host } of charts.values()) plot.setSize({ width: Math.max(240, host.clientWidth), height: 200 });
  });

  const renderConfig = (config: unknown) => {
    const rows = flattenConfig(config);
    replace(configBox, h("summary", {}, "Configuration"),
      rows.length ? h("dl", {}, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))))
        : notice("empty", "No config.json", "This run has no readable configuration."));
  };

  const renderStats = () => {
    const recs = reader.records;
    const lastTrain = [...recs].reverse().find((r) => r.kind === "train");
    const step = status?.step ?? lastTrain?.step;
    const cards: [string, string, string?][] = [
      ["step", step === undefined ? "–" : `${step}${status?.totalSteps ? ` / ${status.totalSteps}` : ""}`],
      ["loss", fmt(latest(recs, "train", "loss"))],
      detectionCard(recs),
      ["balanced acc", pct(latest(recs, "eval", "detBalAcc") ?? latest(recs, "train", "detBalAcc"))],
      ["AUROC", pct(latest(recs, "eval", "detAuroc"))],
      ["kNN acc", pct(latest(recs, "eval", "knnAcc"))],
      ["img/s", fmt(latest(recs, "train", "imgPerSec"), 1)],
    ];
    replace(stats, cards.map(([k, v]) => h("div", { class: "stat" }, h("div", { class: "stat-value" }, v), h("div", { class: "stat-label" }, k))));
  };

  const renderCharts = () => {
    const recs = reader.records;
    if (recs.length === 0) {
      charts.clear();
      replace(body, notice("empty", "No metrics yet",
        status?.state === "running" ? "The run has started; curves appear with its first logged step." : "metrics.jsonl is missing or empty."));
      return;
    }
    if (!body.contains(grid)) replace(body, grid);
    for (const spec of CHARTS) {
      const data = chartData(spec, recs);
      const shown = presentSeries(data);
      let c = charts.get(spec.id);
      if (!shown.some(Boolean)) {
        if (c) { c.plot.destroy(); c.card.remove(); charts.delete(spec.id); }
        continue;
      }
      if (!c) {
        const host = h("div", { class: "chart-host" });
        const card = h("figure", { class: "card chart", "data-chart": spec.id }, h("figcaption", {}, spec.title), host);
        grid.append(card);
        resize.observe(host);
        c = { plot: makeChart(spec, data, host), host, card };
        charts.set(spec.id, c);
      } else {
        c.plot.setData(data as uPlot.AlignedData);
      }
      shown.forEach((on, i) => c!.plot.setSeries(i + 1, { show: on }));
      c.card.dataset.points = String(data[0].length);
    }
    // Keep the charts in their declared order regardless of when each first appeared.
    for (const spec of CHARTS) { const c = charts.get(spec.id); if (c) grid.append(c.card); }
  };

  const tick = async () => {
    if (disposed) return;
    let next = POLL_MS;
    try {
      if (run.kind === "run") {
        try {
          status = await fetchJson<RunStatus>(`${run.base}status.json`);
        } catch {
          // A run without status.json (yet) still has curves.
        }
        onStatus(status);
        const res = await pollMetrics(`${run.base}metrics.jsonl`, reader);
        if (res.reset) { reader = new MetricsReader(); for (const c of charts.values()) c.plot.destroy(); charts.clear(); replace(grid); next = 0; }
        if (res.added.length || res.reset || reader.records.length === 0) { renderCharts(); onRecords(reader.records); }
        renderStats();
        el.dataset.records = String(reader.records.length);
      }
    } catch (e) {
      replace(body, notice("error", "Could not read metrics", (e as Error).message));
    }
    // Poll while training; once finished one more read has already caught the final lines.
    if (!disposed && run.kind === "run" && !(status && FINISHED.has(status.state))) timer = setTimeout(tick, next);
    else el.dataset.live = "false";
  };

  if (run.kind === "export") {
    replace(body, notice("empty", "Exported weights", "An export has no training curves; use the inspector."));
    replace(stats);
  } else {
    el.dataset.live = "true";
    void tick();
  }
  if (run.config) renderConfig(run.config);
  else fetchJson(`${run.base}config.json`).then(renderConfig, () => renderConfig({}));

  // Chart colours come from CSS variables: rebuild on a light/dark switch.
  const scheme = matchMedia("(prefers-color-scheme: dark)");
  const onScheme = () => {
    for (const [id, c] of charts) {
      const spec = CHARTS.find((s) => s.id === id)!;
      c.plot.destroy();
      replace(c.host);
      c.plot = makeChart(spec, chartData(spec, reader.records), c.host);
    }
  };
  scheme.addEventListener("change", onScheme);

  return {
    el,
    records: () => reader.records,
    dispose() {
      disposed = true;
      clearTimeout(timer);
      resize.disconnect();
      scheme.removeEventListener("change", onScheme);
      for (const c of charts.values()) c.plot.destroy();
    },
  };
}
