// The page shell: header with the run picker and status, tabs for the training curves and the
// detection inspector, and the empty / error states of the whole app.
import { parseConfig, type ViewerConfig } from "../lib/config.js";
import type { MetricRecord } from "../lib/metrics.js";
import { candidateSteps, fetchJson, listRuns, type Mode, type RunInfo, type RunStatus } from "../lib/source.js";
import { comparePanel, type ComparePanel } from "./compare.js";
import { curvesPanel, type CurvesPanel } from "./curves.js";
import { h, notice, replace } from "./dom.js";
import { inspectorPanel, type InspectorPanel } from "./inspector.js";

type Tab = "curves" | "inspect" | "compare";
const TAB_LABELS: Record<Tab, string> = { curves: "Training", inspect: "Detection inspector", compare: "Compare runs" };

export async function startApp(root: HTMLElement, mode: Mode): Promise<void> {
  const picker = h("select", { class: "run-picker", "aria-label": "run", "data-testid": "run-picker" });
  const statusPill = h("span", { class: "pill" });
  const tabButtons = new Map<Tab, HTMLButtonElement>();
  const tabs = h("nav", { class: "tabs", role: "tablist" }, (["curves", "inspect", "compare"] as Tab[]).map((t) => {
    const b = h("button", { type: "button", role: "tab", class: "tab", "data-tab": t }, TAB_LABELS[t]);
    b.addEventListener("click", () => showTab(t));
    tabButtons.set(t, b);
    return b;
  }));
  const header = h("header", { class: "top" },
    h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", {}, "DILEMMA"), h("span", { class: "muted" }, "viewer")),
    h("div", { class: "run-box" }, picker, statusPill), tabs);
  const main = h("main", {});
  replace(root, header, main);
  replace(main, notice("loading", "Loading runs…"));

  let runs: RunInfo[];
  try {
    runs = await listRuns(mode);
  } catch (e) {
    header.classList.add("bare");
    replace(main, notice("error", "Could not load the run list", h("span", {},
      (e as Error).message, h("br"), "Start the viewer with ", h("code", {}, "dilemma-cli view runs/*"),
      ", or open a static copy with ", h("code", {}, "?weights=<export folder URL>"), ".")));
    return;
  }
  if (runs.length === 0) {
    header.classList.add("bare");
    replace(main, notice("empty", "No runs yet", h("span", {},
      "Train one with ", h("code", {}, "npx dilemma-cli train"), ", then serve it with ", h("code", {}, "npx dilemma-cli view"), " (every run under ./runs) or ", h("code", {}, "npx dilemma-cli view runs/<name>"), ".")));
    return;
  }
  for (const r of runs) picker.append(h("option", { value: r.id }, r.status?.state ? `${r.name} · ${r.status.state}` : r.name));
  picker.disabled = runs.length < 2 && mode.kind !== "server";

  const params = new URLSearchParams(location.search);
  // Overlaying curves needs at least two runs with metrics.
  const canCompare = runs.filter((r) => r.kind === "run").length >= 2;
  tabButtons.get("compare")!.hidden = !canCompare;
  const hashTab = location.hash.slice(1) as Tab;
  let tab: Tab = hashTab === "inspect" || (hashTab === "compare" && canCompare) ? hashTab : "curves";
  let compare: ComparePanel | null = null;
  let curves: CurvesPanel | null = null;
  let inspector: InspectorPanel | null = null;
  let current: RunInfo | null = null;
  let cfg: ViewerConfig | null = null;
  let cfgError = "";
  let records: readonly MetricRecord[] = [];

  let lastStatus: RunStatus | undefined;
  const setStatus = (s: RunStatus | undefined) => {
    lastStatus = s;
    statusPill.textContent = s ? `${s.state}${s.state === "running" && s.totalSteps ? ` · ${Math.round((100 * (s.step ?? 0)) / s.totalSteps)}%` : ""}` : current?.kind === "export" ? "export" : "";
    statusPill.className = `pill ${s?.state ?? ""}`;
    statusPill.title = s?.message ?? "";
    // Keep the picker's label in step with the live status.
    const opt = current ? [...picker.options].find((o) => o.value === current!.id) : undefined;
    if (opt && s?.state) opt.textContent = `${current!.name} · ${s.state}`;
  };

  function showTab(t: Tab) {
    tab = t;
    history.replaceState(null, "", `${location.pathname}${location.search}#${t}`);
    for (const [k, b] of tabButtons) b.setAttribute("aria-selected", String(k === t));
    render();
  }

  function render() {
    if (!current) return;
    // The run picker picks the run of the other tabs; Compare has its own selection.
    picker.hidden = tab === "compare";
    if (tab === "compare") {
      compare ??= comparePanel(runs);
      replace(main, compare.el);
      return;
    }
    if (tab === "curves") {
      inspector?.el.remove();
      if (curves && !main.contains(curves.el)) replace(main, curves.el);
      return;
    }
    curves?.el.remove();
    if (!cfg) { replace(main, notice("error", "Cannot run the model", cfgError || "config.json is missing.")); return; }
    if (!inspector) {
      const evalSteps = records.filter((r) => r.kind === "eval").map((r) => r.step);
      inspector = inspectorPanel(current, cfg, candidateSteps(current.config, lastStatus?.totalSteps, evalSteps), records);
    }
    replace(main, inspector.el);
  }

  async function selectRun(run: RunInfo) {
    curves?.dispose();
    inspector?.dispose();
    curves = inspector = null;
    current = run;
    cfg = null;
    records = [];
    if (mode.kind === "server") {
      params.set("run", run.id);
      history.replaceState(null, "", `?${params}${location.hash}`);
    }
    setStatus(run.status);
    replace(main, notice("loading", `Loading ${run.name}…`));
    try {
      const raw = run.config ?? (await fetchJson(`${run.base}config.json`));
      run.config = raw;
      cfg = parseConfig(raw);
    } catch (e) {
      cfgError = `config.json could not be read: ${(e as Error).message}`;
    }
    if (current !== run) return;
    tabButtons.get("curves")!.hidden = run.kind === "export";
    if (run.kind === "export") tab = "inspect";
    curves = curvesPanel(run, setStatus, (r) => { records = r; inspector?.setMetrics(r); });
    showTab(tab);
  }

  picker.addEventListener("change", () => void selectRun(runs.find((r) => r.id === picker.value)!));
  const wanted = runs.find((r) => r.id === params.get("run")) ?? runs[0];
  picker.value = wanted.id;
  await selectRun(wanted);
}
