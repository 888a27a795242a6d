// The detection inspector: pick an image and a corruption (random as in training, or manual
// swaps / wrong positions), run one or two checkpoints in the browser and show per-patch
// misplacement probabilities.
import * as tf from "@tensorflow/tfjs-core";
import { sampleDilemma } from "@dilemma/core";
import { legendGradient } from "../lib/colormap.js";
import { applyEdits, balancedDetectionAccuracy, detectionAccuracy, detectionChance, type Edit, type Positions } from "../lib/corruption.js";
import { normalizePixels, type ViewerConfig } from "../lib/config.js";
import { makeGrid, type Grid } from "../lib/grid.js";
import type { MetricRecord } from "../lib/metrics.js";
import { listCheckpoints, listSamples, type CheckpointRef, type RunInfo, type SampleImage } from "../lib/source.js";
import { detectionVerdict, verdictText } from "../lib/verdict.js";
import { loadDetector, type Detector } from "../model/detector.js";
import { h, notice, pct, replace } from "./dom.js";
import { loadImageSource, rgbaOf, toSquare } from "./image.js";
import { patchView, type PatchView } from "./patchView.js";

type Tool = "swap" | "assign";

interface ViewSlot {
  /** Value of the model select: a checkpoint's dir, "init" or "" (no comparison). */
  choice: string;
  view: PatchView;
  card: HTMLElement;
  title: HTMLElement;
  info: HTMLElement;
  probs: Float32Array | null;
}

export interface InspectorPanel {
  el: HTMLElement;
  /** New metrics.jsonl records: updates the note on whether detection has emerged. */
  setMetrics(records: readonly MetricRecord[]): void;
  dispose(): void;
}

export function inspectorPanel(run: RunInfo, cfg: ViewerConfig, candidateSteps: number[], records: readonly MetricRecord[] = []): InspectorPanel {
  const grid: Grid = makeGrid(cfg.model.imgSize, cfg.model.patchSize);
  const L = grid.numPatches;
  const el = h("section", { class: "panel inspector", "data-testid": "inspector" });

  const state = {
    tokenDrop: cfg.tokenDrop,
    dilemmaProb: cfg.dilemmaProb,
    seed: 0,
    tool: "swap" as Tool,
    edits: [] as Edit[],
    pending: -1,
    image: null as HTMLCanvasElement | null,
    pixels: null as Float32Array | null,
    pos: null as Positions | null,
    heatmap: true,
    arrows: false,
    scale: "abs" as "abs" | "rel",
    generation: 0,
  };
  let checkpoints: CheckpointRef[] = [];
  const detectors = new Map<string, Promise<Detector>>();
  let disposed = false;

  const hover = h("div", { class: "hover-info", "aria-live": "polite" }, "\u00a0");
  const message = h("div", { class: "hint", role: "status" });
  const setHover = (t: string) => { hover.textContent = t || "\u00a0"; };

  // ---- image picker ----
  const thumbs = h("div", { class: "thumbs" });
  const fileInput = h("input", { type: "file", accept: "image/*", class: "visually-hidden", id: "image-file" });
  const drop = h("label", { class: "dropzone", for: "image-file" }, "Drop an image here or ", h("u", {}, "choose a file"));
  fileInput.addEventListener("change", () => { const f = fileInput.files?.[0]; if (f) void useImage(f, f.name); });
  // Images can be dropped on the drop zone or straight onto the views.
  const acceptDrops = (target: HTMLElement) => {
    target.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    target.addEventListener("dragleave", () => drop.classList.remove("over"));
    target.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const f = e.dataTransfer?.files[0];
      if (f && f.type.startsWith("image/")) void useImage(f, f.name);
      else message.textContent = "That is not an image file.";
    });
  };
  acceptDrops(drop);

  async function useImage(src: string | Blob, name: string, thumb?: HTMLElement) {
    try {
      const canvas = toSquare(await loadImageSource(src), cfg.model.imgSize);
      state.image = canvas;
      state.pixels = normalizePixels(rgbaOf(canvas), cfg.model.imgSize, cfg.mean, cfg.std, cfg.model.inChans);
      for (const t of thumbs.children) t.classList.toggle("active", t === thumb);
      imageName.textContent = name;
      void recompute();
    } catch (e) {
      message.textContent = (e as Error).message;
    }
  }
  const imageName = h("span", { class: "muted" });

  // ---- corruption controls ----
  const slider = (label: string, min: number, max: number, stepv: number, get: () => number, set: (v: number) => void, show: (v: number) => string) => {
    const out = h("output", {}, show(get()));
    const input = h("input", { type: "range", min, max, step: stepv, value: get() });
    input.addEventListener("input", () => { set(Number(input.value)); out.textContent = show(get()); scheduleResample(); });
    return { row: h("label", { class: "slider" }, h("span", {}, label), input, out), input, out };
  };
  const dropSlider = slider("drop rate", 0, 0.95, 0.05, () => state.tokenDrop, (v) => { state.tokenDrop = v; },
    (v) => `${Math.round(v * 100)}% · ${keptCount(v)} kept`);
  const pSlider = slider("p (corrupt)", 0, 1, 0.05, () => state.dilemmaProb, (v) => { state.dilemmaProb = v; }, (v) => v.toFixed(2));
  const seedInput = h("input", { type: "number", min: 0, step: 1, value: 0, class: "seed", "aria-label": "seed" });
  seedInput.addEventListener("change", () => { state.seed = Math.max(0, Math.floor(Number(seedInput.value) || 0)); resample(); });
  const dice = h("button", { type: "button", class: "btn", title: "new random draw" }, "↻ New draw");
  dice.addEventListener("click", () => { state.seed = (state.seed + 1) >>> 0; seedInput.value = String(state.seed); resample(); });

  function keptCount(drop: number) {
    return Math.max(1, Math.floor(L * (1 - drop)));
  }

  const toolButtons = (["swap", "assign"] as Tool[]).map((t) => {
    const b = h("button", { type: "button", class: "seg", "data-tool": t }, t === "swap" ? "Swap two patches" : "Give a wrong position");
    b.addEventListener("click", () => { state.tool = t; state.pending = -1; renderTools(); redraw(); });
    return b;
  });
  const editList = h("ol", { class: "edits" });
  const clearBtn = h("button", { type: "button", class: "btn", "data-testid": "clear-edits" }, "Clear edits");
  clearBtn.addEventListener("click", () => { state.edits = []; state.pending = -1; updatePositions(); });
  const scaleSelect = h("select", { class: "scale-select", "aria-label": "colour scale" },
    h("option", { value: "abs" }, "scale 0–1"), h("option", { value: "rel" }, "stretch to range"));
  scaleSelect.addEventListener("change", () => { state.scale = scaleSelect.value as "abs" | "rel"; redraw(); });
  // Off by default: with a random draw the arrows crowd the heatmap; they shine for manual edits.
  const arrowToggle = h("input", { type: "checkbox", checked: false });
  arrowToggle.addEventListener("change", () => { state.arrows = arrowToggle.checked; redraw(); });
  const heatToggle = h("input", { type: "checkbox", checked: true });
  heatToggle.addEventListener("change", () => { state.heatmap = heatToggle.checked; redraw(); });

  function renderTools() {
    for (const b of toolButtons) b.classList.toggle("active", b.dataset.tool === state.tool);
    message.textContent = state.pending >= 0
      ? state.tool === "swap" ? `Patch ${state.pending} selected: click another kept patch to swap positions.` : `Patch ${state.pending} selected: click the position it should claim.`
      : state.tool === "swap" ? "Click two kept patches to swap their positional embeddings." : "Click a kept patch, then any cell: the patch gets that cell's position.";
    replace(editList, state.edits.map((e) => h("li", {}, e.kind === "swap" ? `swap ${e.a} ↔ ${e.b}` : `patch ${e.patch} → position ${e.pos}`)));
    clearBtn.disabled = state.edits.length === 0;
  }

  // ---- models ----
  const modelSelect = (withNone: boolean) => h("select", { class: "model-select" }, withNone ? h("option", { value: "" }, "— none —") : null);
  const selA = modelSelect(false);
  const selB = modelSelect(true);

  const makeSlot = (choice: string): ViewSlot => {
    const title = h("h3", {});
    const info = h("div", { class: "view-info" });
    const view = patchView((i) => onPatch(i), setHover);
    const card = h("div", { class: "card view", "data-state": "idle" }, title, h("div", { class: "canvas-wrap" }, view.el), info);
    return { choice, view, card, title, info, probs: null };
  };
  const slots: ViewSlot[] = [makeSlot("init"), makeSlot("")];
  const viewsBox = h("div", { class: "views" });
  acceptDrops(viewsBox);
  selA.addEventListener("change", () => { slots[0].choice = selA.value; void recompute(); });
  selB.addEventListener("change", () => { slots[1].choice = selB.value; void recompute(); });

  const legendTicks = h("span", { class: "legend-ticks" });
  const backendBadge = h("span", { class: "pill", title: "tfjs backend running the model" });
  const legend = h("div", { class: "legend" },
    h("span", {}, "p(misplaced)"), h("span", { class: "legend-bar", style: `background:${legendGradient()}` }),
    legendTicks,
    h("span", { class: "legend-key outline" }, "really misplaced"), h("span", { class: "legend-key dropped" }, "dropped"),
    h("label", { class: "check" }, heatToggle, " heatmap"), h("label", { class: "check", title: "arrow from each misplaced patch to the position it claims" }, arrowToggle, " arrows"), scaleSelect, backendBadge);

  const controls = h("aside", { class: "card controls" },
    h("h3", {}, "Image ", imageName), thumbs, drop, fileInput,
    h("h3", {}, "Random corruption (as in training)"), dropSlider.row, pSlider.row,
    h("div", { class: "row" }, h("label", { class: "slider" }, h("span", {}, "seed"), seedInput), dice),
    h("h3", {}, "Manual edits"), h("div", { class: "segmented" }, toolButtons), message, editList,
    h("div", { class: "row" }, clearBtn),
    h("h3", {}, "Models"), h("label", { class: "field" }, h("span", {}, "model"), selA), h("label", { class: "field" }, h("span", {}, "compare with"), selB));

  // What the held-out evaluation says about the detector, above the heatmaps: a flat map on a
  // run where detection has not emerged is expected, and the page says so.
  const verdictBox = h("div", { class: "verdict", role: "status", "data-testid": "detection-verdict" });
  function setMetrics(recs: readonly MetricRecord[]) {
    const v = detectionVerdict(recs);
    verdictBox.dataset.verdict = v.kind;
    verdictBox.textContent = verdictText(v);
    verdictBox.hidden = v.kind === "none";
  }
  setMetrics(records);

  replace(el, controls, h("div", { class: "inspector-main" }, verdictBox, viewsBox, legend, hover));
  renderTools();

  // ---- positions ----
  // Dragging a slider fires many events: draw once it rests for a moment.
  let resampleTimer: ReturnType<typeof setTimeout> | undefined;
  function scheduleResample() {
    clearTimeout(resampleTimer);
    resampleTimer = setTimeout(resample, 120);
  }

  function resample() {
    state.edits = [];
    state.pending = -1;
    updatePositions();
  }

  function updatePositions() {
    try {
      positionsNow();
    } catch (e) {
      message.textContent = (e as Error).message;
    }
  }

  function positionsNow() {
    const s = sampleDilemma({ batch: 1, numPatches: L, tokenDrop: state.tokenDrop, dilemmaProb: state.dilemmaProb, rng: { seed: state.seed, counter: 0 } });
    const base: Positions = { numPatches: L, realPos: s.realPos, inputPos: s.inputPos, labels: s.labels };
    state.pos = applyEdits(base, state.edits);
    el.dataset.kept = JSON.stringify([...state.pos.realPos]);
    el.dataset.labels = JSON.stringify([...state.pos.labels]);
    renderTools();
    void recompute();
  }

  function onPatch(i: number) {
    if (!state.pos) return;
    const kept = state.pos.realPos.includes(i);
    if (state.pending < 0) {
      if (!kept) { message.textContent = `Patch ${i} is dropped: the model never sees it. Pick a kept (undimmed) patch.`; return; }
      state.pending = i;
      renderTools();
      redraw();
      return;
    }
    const a = state.pending;
    state.pending = -1;
    if (a === i) { renderTools(); redraw(); return; }
    if (state.tool === "swap") {
      if (!kept) { message.textContent = `Patch ${i} is dropped; swap with a kept patch.`; redraw(); return; }
      state.edits.push({ kind: "swap", a, b: i });
    } else {
      state.edits.push({ kind: "assign", patch: a, pos: i });
    }
    updatePositions();
  }

  // ---- running the models ----
  function detectorFor(choice: string): Promise<Detector> {
    let d = detectors.get(choice);
    if (!d) {
      d = loadDetector(cfg, choice === "init" ? null : checkpoints.find((c) => c.dir === choice) ?? null);
      detectors.set(choice, d);
      // A failed load is not cached, so choosing it again retries.
      d.catch(() => detectors.delete(choice));
    }
    return d;
  }

  function labelOf(choice: string) {
    return choice === "init" ? "untrained (random init)" : checkpoints.find((c) => c.dir === choice)?.label ?? "";
  }

  async function recompute() {
    const gen = ++state.generation;
    const { pos, pixels } = state;
    replace(viewsBox, slots.filter((s) => s.choice !== "").map((s) => s.card));
    for (const s of slots) {
      if (s.choice === "") continue;
      s.title.textContent = labelOf(s.choice);
      if (!pos || !pixels) { replace(s.info, h("span", { class: "muted" }, "Choose a sample or drop an image to run the model.")); continue; }
      s.card.dataset.state = "loading";
      replace(s.info, h("span", { class: "spinner" }), " running the model…");
    }
    redraw();
    if (!pos || !pixels) return;
    await Promise.all(slots.map(async (s) => {
      if (s.choice === "") return;
      try {
        const det = await detectorFor(s.choice);
        el.dataset.backend = tf.getBackend();
        backendBadge.textContent = tf.getBackend() === "webgl" ? "WebGL" : tf.getBackend().toUpperCase();
        const probs = await det.detect(pixels, pos);
        if (gen !== state.generation || disposed) return;
        s.probs = probs;
        const acc = detectionAccuracy(probs, pos.labels);
        const mean = (want: number) => {
          let sum = 0, n = 0;
          probs.forEach((p, i) => { if (pos.labels[i] === want) { sum += p; n++; } });
          return n ? sum / n : NaN;
        };
        const nWrong = pos.labels.reduce((a, b) => a + b, 0);
        s.card.dataset.state = "ready";
        s.card.dataset.probs = JSON.stringify(Array.from(probs));
        s.card.dataset.acc = String(acc);
        replace(s.info,
          h("div", { class: "acc" }, h("span", { class: "big" }, pct(acc)), ` detection accuracy (chance ${pct(detectionChance(pos.labels))})`),
          h("div", { class: "muted" }, `balanced accuracy ${pct(balancedDetectionAccuracy(probs, pos.labels))} (50% = detects nothing)`),
          h("div", { class: "muted" }, `${pos.realPos.length} kept · ${nWrong} misplaced · mean p: misplaced ${pct(mean(1))}, in place ${pct(mean(0))}`));
      } catch (e) {
        if (gen !== state.generation) return;
        s.probs = null;
        s.card.dataset.state = "error";
        replace(s.info, notice("error", "Model failed", (e as Error).message));
      }
      if (gen === state.generation) redraw();
    }));
  }

  function redraw() {
    // "Stretch" shares one range across the views so side-by-side colours stay comparable.
    let range: [number, number] = [0, 1];
    if (state.scale === "rel") {
      const all = slots.filter((s) => s.choice !== "" && s.probs).flatMap((s) => Array.from(s.probs!));
      if (all.length) range = [Math.min(...all), Math.max(...all)];
    }
    legendTicks.replaceChildren(...[range[0], (range[0] + range[1]) / 2, range[1]].map((v) => h("span", {}, +v.toFixed(range[1] - range[0] < 0.1 ? 3 : 2))));
    for (const s of slots) {
      if (s.choice === "") continue;
      s.view.draw({ image: state.image, grid, pos: state.pos, probs: s.probs, heatmap: state.heatmap, selected: state.pending, range, arrows: state.arrows });
    }
  }

  /** Fills both selects, keeping each current choice when it still exists. */
  function setCheckpoints(ckpts: CheckpointRef[]) {
    checkpoints = ckpts;
    [selA, selB].forEach((sel, k) => {
      const keep = slots[k].choice;
      replace(sel, k === 1 ? h("option", { value: "" }, "— none —") : null,
        ckpts.map((c) => h("option", { value: c.dir }, c.label)), h("option", { value: "init" }, "untrained (random init)"));
      sel.value = keep;
      if (sel.value !== keep) slots[k].choice = sel.value;
    });
  }

  const refreshBtn = h("button", { type: "button", class: "btn", title: "look for new checkpoints (e.g. while the run trains)" }, "↻ Refresh list");
  refreshBtn.addEventListener("click", async () => {
    refreshBtn.disabled = true;
    try {
      setCheckpoints(await listCheckpoints(run, candidateSteps));
      void recompute();
    } catch (e) {
      message.textContent = `Could not list checkpoints: ${(e as Error).message}`;
    } finally {
      refreshBtn.disabled = false;
    }
  });
  if (run.kind === "run") controls.append(h("div", { class: "row" }, h("span", {}), refreshBtn));

  // ---- initial data ----
  (async () => {
    const [samples, ckpts] = await Promise.all([
      listSamples(run).catch(() => [] as SampleImage[]),
      listCheckpoints(run, candidateSteps).catch(() => [] as CheckpointRef[]),
    ]);
    if (disposed) return;
    setCheckpoints(ckpts);
    if (ckpts.length === 0) message.textContent = "This run has no checkpoint yet: showing an untrained model.";
    else slots[0].choice = selA.value = ckpts[0].dir;
    // Default comparison: the oldest available checkpoint against the latest.
    if (ckpts.length > 1) slots[1].choice = selB.value = ckpts[ckpts.length - 1].dir;
    if (samples.length === 0) thumbs.append(h("div", { class: "muted" }, "No sample images in this run; drop your own."));
    for (const s of samples.slice(0, 48)) {
      const b = h("button", { type: "button", class: "thumb", title: s.className ?? s.file },
        h("img", { src: s.url, alt: s.className ?? s.file, width: 40, height: 40 }));
      b.addEventListener("click", () => void useImage(s.url, s.className ? `${s.className} · ${s.file}` : s.file, b));
      thumbs.append(b);
    }
    updatePositions();
    if (samples.length) await useImage(samples[0].url, samples[0].className ? `${samples[0].className} · ${samples[0].file}` : samples[0].file, thumbs.firstElementChild as HTMLElement);
    else void recompute();
  })();

  return {
    el,
    setMetrics,
    dispose() {
      disposed = true;
      clearTimeout(resampleTimer);
      for (const d of detectors.values()) d.then((x) => x.dispose(), () => undefined);
      detectors.clear();
    },
  };
}
