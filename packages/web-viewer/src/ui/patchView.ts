// One image panel: the image, its patch grid, dropped patches dimmed, each kept patch tinted by
// its misplacement probability, truly misplaced patches outlined, and click -> patch index.
import { cssColor, heatColor, rescale } from "../lib/colormap.js";
import { slotsByPatch, type Positions } from "../lib/corruption.js";
import { patchAt, patchLabel, patchRect, type Grid } from "../lib/grid.js";
import { h } from "./dom.js";

export interface PatchViewState {
  image: HTMLCanvasElement | null;
  grid: Grid;
  pos: Positions | null;
  probs: Float32Array | null;
  heatmap: boolean;
  /** Patch highlighted as the first half of a pending edit. */
  selected: number;
  /** Draw an arrow from each misplaced patch to the position it claims. */
  arrows: boolean;
  /** Probability range mapped onto the colour ramp ([0, 1] = absolute). */
  range: [number, number];
}

export interface PatchView {
  el: HTMLCanvasElement;
  draw(s: PatchViewState): void;
}

function hatch(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.clip();
  ctx.strokeStyle = "rgba(255, 255, 255, 0.22)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let d = -h; d < w; d += 5) { ctx.moveTo(x + d, y + h); ctx.lineTo(x + d + h, y); }
  ctx.stroke();
  ctx.restore();
}

/** A thin arrow (dark halo under a light stroke) from (x0, y0) to (x1, y1), ending `gap` short. */
function arrow(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number, gap: number): void {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len < 1) return;
  const ux = (x1 - x0) / len, uy = (y1 - y0) / len;
  const ex = x1 - ux * gap, ey = y1 - uy * gap;
  const head = 7;
  const path = () => {
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(ex, ey);
    ctx.moveTo(ex - ux * head - uy * head * 0.6, ey - uy * head + ux * head * 0.6);
    ctx.lineTo(ex, ey);
    ctx.lineTo(ex - ux * head + uy * head * 0.6, ey - uy * head - ux * head * 0.6);
  };
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  path();
  ctx.strokeStyle = "rgba(0, 0, 0, 0.55)";
  ctx.lineWidth = 3.5;
  ctx.stroke();
  path();
  ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.beginPath();
  ctx.arc(x0, y0, 2.5, 0, 2 * Math.PI);
  ctx.fillStyle = "#ffffff";
  ctx.fill();
}

/** CSS px of the drawing; the backing store is scaled by devicePixelRatio for crisp lines. */
const SIZE = 384;

export function patchView(onPatch: (index: number) => void, onHover: (text: string) => void): PatchView {
  const el = h("canvas", { class: "patch-canvas", width: SIZE, height: SIZE, tabindex: 0 });
  let last: PatchViewState | null = null;

  const hit = (ev: MouseEvent) => (last ? patchAt(last.grid, ev.offsetX, ev.offsetY, el.clientWidth, el.clientHeight) : -1);
  el.addEventListener("click", (ev) => { const i = hit(ev); if (i >= 0) onPatch(i); });
  el.addEventListener("mousemove", (ev) => {
    const i = hit(ev);
    if (i < 0 || !last) return onHover("");
    const slot = last.pos ? slotsByPatch(last.pos)[i] : -1;
    if (!last.pos || slot < 0) return onHover(`${patchLabel(last.grid, i)} · dropped`);
    const p = last.probs?.[slot];
    const wrong = last.pos.labels[slot] === 1;
    onHover(`${patchLabel(last.grid, i)} · p(misplaced) ${p === undefined ? "…" : p.toFixed(3)}${wrong ? ` · really misplaced (gets position ${last.pos.inputPos[slot]})` : ""}`);
  });
  el.addEventListener("mouseleave", () => onHover(""));

  return {
    el,
    draw(s) {
      last = s;
      const dpr = Math.max(1, Math.round(devicePixelRatio || 1));
      if (el.width !== SIZE * dpr) { el.width = SIZE * dpr; el.height = SIZE * dpr; }
      const ctx = el.getContext("2d")!;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, SIZE, SIZE);
      if (!s.image) return;
      // Training images are tiny (e.g. 32 px): show their real pixels rather than a blur.
      ctx.imageSmoothingEnabled = false;
      // Under the heatmap the image goes grey so the colours read as probabilities, not pixels.
      const tinted = s.heatmap && s.probs !== null;
      ctx.filter = tinted ? "grayscale(1) contrast(0.8)" : "none";
      ctx.drawImage(s.image, 0, 0, SIZE, SIZE);
      ctx.filter = "none";
      const slots = s.pos ? slotsByPatch(s.pos) : null;
      for (let i = 0; i < s.grid.numPatches; i++) {
        const r = patchRect(s.grid, i, SIZE);
        const slot = slots ? slots[i] : i;
        if (slot < 0) {
          // Dropped: dimmed and hatched, so it never reads as a low-probability patch.
          ctx.fillStyle = "rgba(16, 18, 24, 0.86)";
          ctx.fillRect(r.x, r.y, r.w, r.h);
          hatch(ctx, r.x, r.y, r.w, r.h);
        } else if (s.heatmap && s.probs && slot < s.probs.length) {
          ctx.fillStyle = cssColor(heatColor(rescale(s.probs[slot], s.range[0], s.range[1])));
          ctx.fillRect(r.x, r.y, r.w, r.h);
        }
      }
      // Grid lines, thin and neutral so they read on any image.
      ctx.strokeStyle = "rgba(255, 255, 255, 0.18)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let k = 1; k < s.grid.side; k++) {
        const t = Math.round((k * SIZE) / s.grid.side) + 0.5;
        ctx.moveTo(t, 0); ctx.lineTo(t, SIZE);
        ctx.moveTo(0, t); ctx.lineTo(SIZE, t);
      }
      ctx.stroke();
      // Ground truth: the truly misplaced tokens, outlined (white halo + dashed accent).
      if (s.pos) {
        s.pos.realPos.forEach((patch, slot) => {
          if (s.pos!.labels[slot] !== 1) return;
          const r = patchRect(s.grid, patch, SIZE);
          ctx.setLineDash([]);
          ctx.strokeStyle = "rgba(0, 0, 0, 0.6)";
          ctx.lineWidth = 4;
          ctx.strokeRect(r.x + 2, r.y + 2, r.w - 4, r.h - 4);
          ctx.strokeStyle = "#37e2d5";
          ctx.lineWidth = 2;
          ctx.setLineDash([5, 3]);
          ctx.strokeRect(r.x + 2, r.y + 2, r.w - 4, r.h - 4);
        });
        ctx.setLineDash([]);
      }
      if (s.pos && s.arrows) {
        s.pos.realPos.forEach((patch, slot) => {
          if (s.pos!.labels[slot] !== 1 || s.pos!.inputPos[slot] === patch) return;
          const a = patchRect(s.grid, patch, SIZE), b = patchRect(s.grid, s.pos!.inputPos[slot], SIZE);
          arrow(ctx, a.x + a.w / 2, a.y + a.h / 2, b.x + b.w / 2, b.y + b.h / 2, a.w * 0.3);
        });
      }
      if (s.selected >= 0) {
        const r = patchRect(s.grid, s.selected, SIZE);
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = 3;
        ctx.strokeRect(r.x + 1.5, r.y + 1.5, r.w - 3, r.h - 3);
      }
    },
  };
}
