// Plain SVG charts of a study (bars with error bars, lines), rendered to PNG with sharp.
import sharp from "sharp";

export const ARM_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const f = (x: number) => (Math.round(x * 10) / 10).toString();

export interface Bar { label: string; mean: number; std?: number; color: string }
export interface BarGroup { label: string; bars: Bar[] }

/** "Nice" tick step for a range (1, 2, 5 x 10^k). */
function tickStep(span: number, count = 5): number {
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function frame(w: number, h: number, title: string, body: string[]): string {
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${w / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`, ...body, "</svg>"].join("\n");
}

function yAxis(x0: number, x1: number, y: (v: number) => number, lo: number, hi: number, fmt: (v: number) => string, label: string, yMid: number): string[] {
  const out: string[] = [];
  const step = tickStep(hi - lo);
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
    out.push(`<line x1="${x0}" x2="${x1}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e3e3e3"/>`,
      `<text x="${x0 - 6}" y="${f(y(v) + 4)}" text-anchor="end" font-size="11" fill="#444">${esc(fmt(v))}</text>`);
  }
  out.push(`<text transform="translate(16 ${yMid}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222">${esc(label)}</text>`);
  return out;
}

function legend(items: { label: string; color: string; dashed?: boolean }[], x: number, y: number, lines = false): string[] {
  return items.flatMap((it, i) => [
    `<line x1="${x}" x2="${x + 22}" y1="${y + i * 18}" y2="${y + i * 18}" stroke="${it.color}" stroke-width="${it.dashed || lines ? 2 : 6}"${it.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
    `<text x="${x + 28}" y="${y + i * 18 + 4}" font-size="12" fill="#222">${esc(it.label)}</text>`,
  ]);
}

/** Grouped bars with ±std error bars; values are fractions shown as percent. */
export function barChartSvg(o: { title: string; yLabel: string; groups: BarGroup[]; legend: { label: string; color: string }[] }): string {
  const barW = 22, gap = 26, left = 64, right = 150, top = 40, plotH = 280, bottom = 60;
  const nBars = Math.max(1, ...o.groups.map((g) => g.bars.length));
  const groupW = nBars * barW + gap;
  const w = Math.max(640, left + Math.max(1, o.groups.length) * groupW + right), h = top + plotH + bottom;
  const tops = o.groups.flatMap((g) => g.bars.map((b) => b.mean + (Number.isFinite(b.std) ? b.std! : 0)));
  const hi = Math.min(1, Math.max(0.1, ...tops.filter(Number.isFinite)) * 1.08);
  const y = (v: number) => top + plotH - (Math.max(0, v) / hi) * plotH;
  const body = yAxis(left, left + o.groups.length * groupW, y, 0, hi, (v) => `${Math.round(v * 100)}`, o.yLabel, top + plotH / 2);
  o.groups.forEach((g, gi) => {
    const gx = left + gi * groupW + gap / 2;
    g.bars.forEach((b, bi) => {
      const x = gx + bi * barW;
      if (!Number.isFinite(b.mean)) return;
      body.push(`<rect x="${x}" y="${f(y(b.mean))}" width="${barW - 3}" height="${f(top + plotH - y(b.mean))}" fill="${b.color}"><title>${esc(`${g.label} ${b.label}`)}</title></rect>`);
      if (b.std !== undefined && Number.isFinite(b.std) && b.std > 0) {
        const cx = x + (barW - 3) / 2;
        body.push(`<path d="M${f(cx)} ${f(y(b.mean - b.std))}V${f(y(b.mean + b.std))}M${f(cx - 5)} ${f(y(b.mean - b.std))}H${f(cx + 5)}M${f(cx - 5)} ${f(y(b.mean + b.std))}H${f(cx + 5)}" stroke="#111" stroke-width="1.3" fill="none"/>`);
      }
    });
    const lines = g.label.split("\n");
    lines.forEach((l, li) => body.push(`<text x="${f(gx + (g.bars.length * barW) / 2)}" y="${top + plotH + 18 + li * 14}" text-anchor="middle" font-size="11" fill="#222">${esc(l)}</text>`));
  });
  body.push(`<line x1="${left}" x2="${left + o.groups.length * groupW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#222"/>`);
  body.push(...legend(o.legend, left + o.groups.length * groupW + 16, top + 10));
  return frame(w, h, o.title, body);
}

export interface LineSeries { label?: string; color: string; points: [number, number][]; dashed?: boolean }

/** Lines on linear axes (y a fraction shown as percent); `legend` lists the styles once. */
export function lineChartSvg(o: { title: string; xLabel: string; yLabel: string; series: LineSeries[]; legend: { label: string; color: string; dashed?: boolean }[]; yPercent?: boolean }): string {
  const left = 64, right = 240, top = 40, plotW = 460, plotH = 260, bottom = 50;
  const w = left + plotW + right, h = top + plotH + bottom;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0])).filter(Number.isFinite);
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xHi = Math.max(1e-9, ...xs);
  let yLo = ys.length ? Math.min(...ys) : 0, yHi = ys.length ? Math.max(...ys) : 1;
  const pad = Math.max(0.02, (yHi - yLo) * 0.08);
  yLo = Math.max(o.yPercent === false ? -Infinity : 0, yLo - pad);
  yHi = o.yPercent === false ? yHi + pad : Math.min(1, yHi + pad);
  if (yHi <= yLo) yHi = yLo + 0.1;
  const x = (v: number) => left + (v / xHi) * plotW;
  const y = (v: number) => top + plotH - ((v - yLo) / (yHi - yLo)) * plotH;
  const body = yAxis(left, left + plotW, y, yLo, yHi, (v) => (o.yPercent === false ? v.toPrecision(3) : `${Math.round(v * 100)}`), o.yLabel, top + plotH / 2);
  const xs0 = tickStep(xHi);
  for (let v = 0; v <= xHi + 1e-9; v += xs0) {
    body.push(`<line x1="${f(x(v))}" x2="${f(x(v))}" y1="${top + plotH}" y2="${top + plotH + 4}" stroke="#222"/>`,
      `<text x="${f(x(v))}" y="${top + plotH + 17}" text-anchor="middle" font-size="11" fill="#444">${esc(Number(v.toPrecision(6)).toString())}</text>`);
  }
  body.push(`<text x="${left + plotW / 2}" y="${top + plotH + 38}" text-anchor="middle" font-size="12" fill="#222">${esc(o.xLabel)}</text>`);
  body.push(`<path d="M${left} ${top}V${top + plotH}H${left + plotW}" stroke="#222" fill="none"/>`);
  for (const s of o.series) {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (!pts.length) continue;
    body.push(`<polyline points="${pts.map((p) => `${f(x(p[0]))},${f(y(p[1]))}`).join(" ")}" fill="none" stroke="${s.color}" stroke-width="1.8" stroke-opacity="0.85"${s.dashed ? ' stroke-dasharray="5 3"' : ""}>${s.label ? `<title>${esc(s.label)}</title>` : ""}</polyline>`);
    for (const p of pts) body.push(`<circle cx="${f(x(p[0]))}" cy="${f(y(p[1]))}" r="2.2" fill="${s.color}"/>`);
  }
  body.push(...legend(o.legend, left + plotW + 16, top + 10, true));
  return frame(w, h, o.title, body);
}

/** Renders an SVG string to PNG bytes. */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
}
