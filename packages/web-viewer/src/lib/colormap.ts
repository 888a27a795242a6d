// Heatmap colours for misplacement probabilities: a perceptually ordered ramp (the upper part of
// inferno, purple -> red -> orange -> yellow; its black end is left out so it never looks like a
// dimmed, dropped patch), with alpha growing with p so "in place" patches leave the image visible.

export type RGBA = [number, number, number, number];

// Control points of matplotlib's "inferno" at t = 0.2, 0.4, 0.6, 0.8, 1.
const STOPS: [number, number, number][] = [
  [66, 10, 104], [147, 38, 103], [221, 81, 58], [252, 165, 10], [252, 255, 164],
];

/** Colour for p in [0, 1] (clamped; NaN -> transparent). Alpha runs from 0.25 to 0.9. */
export function heatColor(p: number): RGBA {
  if (Number.isNaN(p)) return [0, 0, 0, 0];
  const t = Math.min(1, Math.max(0, p));
  const x = t * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  const c = (k: number) => Math.round(a[k] + (b[k] - a[k]) * f);
  return [c(0), c(1), c(2), 0.25 + 0.65 * t];
}

/**
 * Where p falls within [lo, hi], for the "stretch" scale that spreads a weakly trained model's
 * narrow range of probabilities over the whole ramp (a flat range maps to 0.5).
 */
export function rescale(p: number, lo: number, hi: number): number {
  if (!(hi > lo)) return 0.5;
  return Math.min(1, Math.max(0, (p - lo) / (hi - lo)));
}

export function cssColor([r, g, b, a]: RGBA): string {
  return `rgba(${r}, ${g}, ${b}, ${+a.toFixed(3)})`;
}

/** A CSS linear-gradient of the ramp for a legend. */
export function legendGradient(steps = 8): string {
  const parts = Array.from({ length: steps + 1 }, (_, k) => {
    const [r, g, b] = heatColor(k / steps);
    return `rgb(${r}, ${g}, ${b}) ${(100 * k / steps).toFixed(1)}%`;
  });
  return `linear-gradient(to right, ${parts.join(", ")})`;
}
