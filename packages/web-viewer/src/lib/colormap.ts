// Heatmap colours for misplacement probabilities: a perceptually ordered ramp (inferno-like,
// dark -> purple -> orange -> yellow), readable on both light and dark backgrounds, with alpha
// growing with p so confident "in place" patches leave the image visible.

export type RGBA = [number, number, number, number];

// Control points of matplotlib's "inferno" at t = 0, 0.25, 0.5, 0.75, 1.
const STOPS: [number, number, number][] = [
  [0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164],
];

/** Colour for p in [0, 1] (clamped; NaN -> transparent). Alpha runs from 0.3 to 0.85. */
export function heatColor(p: number): RGBA {
  if (Number.isNaN(p)) return [0, 0, 0, 0];
  const t = Math.min(1, Math.max(0, p));
  const x = t * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  const c = (k: number) => Math.round(a[k] + (b[k] - a[k]) * f);
  return [c(0), c(1), c(2), 0.3 + 0.55 * t];
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
