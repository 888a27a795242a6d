// The Compare tab: the curves of several runs (e.g. a whole `dilemma-cli study`) overlaid on
// one chart. Runs are grouped by configuration (seed aside) and coloured per group; the x axis is
// the step or the seconds of training steps (the study's equal-budget clock).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { parseMetrics, type MetricRecord } from "../lib/metrics.js";
import { colorsByKey, configLabel, OVERLAY_METRICS, overlayData, runsWithData, type OverlayX } from "../lib/overlay.js";
import { fetchOk, type RunInfo } from "../lib/source.js";
import { h, notice, replace } from "./dom.js";

export interface ComparePanel { el: HTMLElement; dispose(): void }

function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export function comparePanel(runs: readonly RunInfo[]): ComparePanel {
  const el = h("section", { class: "panel compare", "data-testid": "compare" });
  const groups = runs.map((r) => configLabel(r.config) || r.name);
  const colors = colorsByKey(groups);
  const selected = new Set(runs.map((r) => r.id));
  const cache = new Map<string, readonly MetricRecord[]>();
  let metric = OVERLAY_METRICS[0];
  let xAxis: OverlayX = "trainTime";
  let plot: uPlot | null = null;

  const metricSel = h("select", { "aria-label": "metric", "data-testid": "compare-metric" },
    OVERLAY_METRICS.map((m) => h("option", { value: m.id }, m.label)));
  const xSel = h("select", { "aria-label": "x axis", "data-testid": "compare-x" },
    h("option", { value: "trainTime" }, "seconds of training"), h("option", { value: "step" }, "step"));
  const reload = h("button", { type: "button", class: "btn" }, "Reload");
  const host = h("div", { class: "chart-host" });
  const chartBox = h("figure", { class: "card chart compare-chart" }, h("figcaption", {}, ""), host);
  const list = h("div", { class: "card compare-runs" });
  const status = h("div", { class: "muted compare-status" });
  replace(el, h("div", { class: "compare-controls" }, metricSel, xSel, reload, status), h("div", { class: "compare-body" }, list, chartBox));

  const renderList = () => {
    const byGroup = new Map<string, RunInfo[]>();
    runs.forEach((r, i) => byGroup.set(groups[i], [...(byGroup.get(groups[i]) ?? []), r]));
    replace(list, h("div", { class: "compare-all" },
      h("button", { type: "button", class: "btn", onclick: () => { runs.forEach((r) => selected.add(r.id)); renderList(); void draw(); } }, "all"),
      h("button", { type: "button", class: "btn", onclick: () => { selected.clear(); renderList(); void draw(); } }, "none")),
    [...byGroup].map(([g, rs]) => {
      const all = rs.every((r) => selected.has(r.id));
      const head = h("input", { type: "checkbox", checked: all, "aria-label": g });
      head.addEventListener("change", () => { for (const r of rs) if (head.checked) selected.add(r.id); else selected.delete(r.id); renderList(); void draw(); });
      return h("fieldset", { class: "compare-group" },
        h("legend", {}, h("label", {}, head, h("span", { class: "swatch", style: `background:${colors.get(g)}` }), g)),
        rs.map((r) => {
          const box = h("input", { type: "checkbox", checked: selected.has(r.id), "data-run": r.id });
          box.addEventListener("change", () => { if (box.checked) selected.add(r.id); else selected.delete(r.id); renderList(); void draw(); });
          return h("label", { class: "compare-run" }, box, r.name);
        }));
    }));
  };

  const load = async (r: RunInfo): Promise<readonly MetricRecord[]> => {
    const have = cache.get(r.id);
    if (have) return have;
    try {
      const text = await (await fetchOk(`${r.base}metrics.jsonl`, { cache: "no-store" })).text();
      const recs = parseMetrics(text).records;
      cache.set(r.id, recs);
      return recs;
    } catch {
      return [];
    }
  };

  let drawing = 0;
  const draw = async () => {
    const ticket = ++drawing;
    const chosen = runs.filter((r) => selected.has(r.id) && r.kind === "run");
    status.textContent = chosen.length ? `loading ${chosen.length} run${chosen.length === 1 ? "" : "s"}…` : "";
    const recs = await Promise.all(chosen.map(load));
    if (ticket !== drawing) return;
    const data = overlayData(chosen.map((r, i) => ({ id: r.id, label: r.name, records: recs[i] })), metric, xAxis);
    const shown = runsWithData(data);
    plot?.destroy();
    plot = null;
    chartBox.querySelector("figcaption")!.textContent = `${metric.label} against ${xAxis === "step" ? "step" : "seconds of training"}`;
    el.dataset.series = String(shown.filter(Boolean).length);
    const missing = chosen.filter((_, i) => !shown[i]).length;
    status.textContent = `${shown.filter(Boolean).length} of ${chosen.length} selected runs have this metric${missing && xAxis === "trainTime" ? " (runs from before trainTime was logged: use the step axis)" : ""}`;
    if (!shown.some(Boolean)) { replace(host, notice("empty", "Nothing to overlay", "Select runs that logged this metric.")); return; }
    replace(host);
    const axis = { stroke: themeColor("--muted"), grid: { stroke: themeColor("--grid"), width: 1 }, ticks: { stroke: themeColor("--grid") } };
    plot = new uPlot({
      width: Math.max(320, host.clientWidth), height: 360, legend: { live: true }, cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [{ ...axis, label: xAxis === "step" ? "step" : "seconds of training", labelSize: 18 },
        { ...axis, size: 56, ...(metric.unit === "percent" ? { values: (_: uPlot, v: number[]) => v.map((x) => `${Math.round(x * 100)}%`) } : {}) }],
      series: [{ label: xAxis }, ...chosen.map((r, i) => ({ label: r.name, stroke: colors.get(groups[runs.indexOf(r)]), width: 1.5, spanGaps: true, show: shown[i], points: { show: metric.source === "eval" } }))],
    }, data as uPlot.AlignedData, host);
  };

  metricSel.addEventListener("change", () => { metric = OVERLAY_METRICS.find((m) => m.id === metricSel.value)!; void draw(); });
  xSel.addEventListener("change", () => { xAxis = xSel.value as OverlayX; void draw(); });
  reload.addEventListener("click", () => { cache.clear(); void draw(); });
  const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(320, host.clientWidth), height: 360 }));
  resize.observe(host);
  renderList();
  void draw();
  return { el, dispose() { drawing++; resize.disconnect(); plot?.destroy(); } };
}
