/**
 * The built-in `shapes` dataset: procedural images rendered on the fly with an anti-aliased
 * signed-distance rasteriser. The class is the shape; colour, position, scale, rotation and the
 * background (gradients, noise, stripes, scratches — varying across the image so a patch's
 * position is inferable from its content) are random. Image (split, i) is a pure function of
 * (seed, split, i), and the splits use different keys, so they are disjoint.
 */
import { Rng, mix32 } from "./prng.js";
import { hsv, paint, sdPolygon, sdSegment, toBytes } from "./raster.js";
import { openProcedural } from "./procedural.js";
import type { Dataset } from "./types.js";

/** Shape classes, in label order. */
export const SHAPE_CLASSES = ["circle", "square", "triangle", "star", "cross", "ring", "hexagon", "arrow"] as const;

type Pt = [number, number];

/** Polygon outlines in unit space (radius about 1); circle and ring are analytic. */
const POLYGONS: Record<string, Pt[]> = {
  square: [[-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]],
  triangle: regular(3, 1.05, Math.PI / 2),
  star: Array.from({ length: 10 }, (_, i): Pt => {
    const r = i % 2 === 0 ? 1.05 : 0.45;
    const a = Math.PI / 2 + (i * Math.PI) / 5;
    return [r * Math.cos(a), r * Math.sin(a)];
  }),
  cross: [
    [-0.3, -1], [0.3, -1], [0.3, -0.3], [1, -0.3], [1, 0.3], [0.3, 0.3],
    [0.3, 1], [-0.3, 1], [-0.3, 0.3], [-1, 0.3], [-1, -0.3], [-0.3, -0.3],
  ],
  hexagon: regular(6, 0.95, 0),
  arrow: [[-1, -0.22], [0.1, -0.22], [0.1, -0.65], [1, 0], [0.1, 0.65], [0.1, 0.22], [-1, 0.22]],
};

function regular(n: number, r: number, phase: number): Pt[] {
  return Array.from({ length: n }, (_, i): Pt => [r * Math.cos(phase + (2 * Math.PI * i) / n), r * Math.sin(phase + (2 * Math.PI * i) / n)]);
}

const lum = (c: number[]): number => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

/** Renders one image of class `label` at `size` x `size` from a key; returns HWC RGB bytes. */
export function renderShape(label: number, size: number, seed: number, split: number, index: number): Uint8Array {
  const rng = new Rng(seed, 0x5a4e, split, index);
  const S = size;
  const img = new Float32Array(S * S * 3);

  // Background: a linear or radial gradient between two colours ...
  const c0 = hsv(rng.next(), rng.uniform(0.1, 0.9), rng.uniform(0.15, 0.95));
  const c1 = hsv(rng.next(), rng.uniform(0.1, 0.9), rng.uniform(0.15, 0.95));
  const radial = rng.chance(0.4);
  const ang = rng.uniform(0, 2 * Math.PI);
  const gx = Math.cos(ang) / S;
  const gy = Math.sin(ang) / S;
  const rcx = rng.uniform(0, S);
  const rcy = rng.uniform(0, S);
  const rScale = 1 / (S * rng.uniform(0.6, 1.2));
  // ... plus low-frequency value noise towards a third colour ...
  const c2 = hsv(rng.next(), rng.uniform(0, 1), rng.uniform(0.1, 1));
  const noiseAmp = rng.uniform(0, 0.5);
  const G = 4;
  const lattice = new Float32Array((G + 1) * (G + 1));
  for (let i = 0; i < lattice.length; i++) lattice[i] = rng.next();
  // ... plus optional stripes and per-pixel grain.
  const stripeAmp = rng.chance(0.5) ? rng.uniform(0.03, 0.15) : 0;
  const sAng = rng.uniform(0, Math.PI);
  const sFreq = (2 * Math.PI * rng.uniform(2, 6)) / S;
  const sx = Math.cos(sAng) * sFreq;
  const sy = Math.sin(sAng) * sFreq;
  const sPhase = rng.uniform(0, 2 * Math.PI);
  const grain = rng.uniform(0, 0.06);
  const grainKey = rng.nextU32();

  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      let t = radial ? Math.sqrt((px - rcx) ** 2 + (py - rcy) ** 2) * rScale : 0.5 + (px - S / 2) * gx + (py - S / 2) * gy;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      // Smooth bilinear value noise on a G x G lattice.
      const nx = (px / S) * G;
      const ny = (py / S) * G;
      const ix = Math.min(G - 1, Math.floor(nx));
      const iy = Math.min(G - 1, Math.floor(ny));
      let fx = nx - ix;
      let fy = ny - iy;
      fx = fx * fx * (3 - 2 * fx);
      fy = fy * fy * (3 - 2 * fy);
      const l = iy * (G + 1) + ix;
      const nTop = lattice[l] + (lattice[l + 1] - lattice[l]) * fx;
      const nBot = lattice[l + G + 1] + (lattice[l + G + 2] - lattice[l + G + 1]) * fx;
      const m = noiseAmp * (nTop + (nBot - nTop) * fy);
      const stripe = stripeAmp * Math.sin(px * sx + py * sy + sPhase);
      const g = grain * ((mix32(grainKey ^ (y * S + x)) / 4294967296) * 2 - 1);
      const o = (y * S + x) * 3;
      for (let c = 0; c < 3; c++) {
        const base = c0[c] + (c1[c] - c0[c]) * t;
        img[o + c] = base + (c2[c] - base) * m + stripe + g;
      }
    }
  }

  // Clutter: 0-3 thin scratches (capsules), too thin to read as a shape.
  const nScratch = rng.int(4);
  for (let k = 0; k < nScratch; k++) {
    const col = hsv(rng.next(), rng.next(), rng.next());
    const ax = rng.uniform(0, S);
    const ay = rng.uniform(0, S);
    const len = rng.uniform(0.1, 0.35) * S;
    const a = rng.uniform(0, 2 * Math.PI);
    const bx = ax + Math.cos(a) * len;
    const by = ay + Math.sin(a) * len;
    const r = Math.max(0.3, S / 128);
    paint(img, S, col, Math.min(ax, bx) - r - 1, Math.max(ax, bx) + r + 1, Math.min(ay, by) - r - 1, Math.max(ay, by) + r + 1, (px, py) =>
      sdSegment(px, py, ax, ay, bx, by, r),
    );
  }

  // The shape: random centre, radius, rotation and colour, kept in contrast with its background.
  const name = SHAPE_CLASSES[label];
  const R = rng.uniform(0.22, 0.38) * S;
  const cx = rng.uniform(R * 0.9, S - R * 0.9);
  const cy = rng.uniform(R * 0.9, S - R * 0.9);
  const rot = rng.uniform(0, 2 * Math.PI);
  let col = hsv(rng.next(), rng.uniform(0.4, 1), rng.uniform(0.3, 1));
  const ci = (Math.min(S - 1, Math.floor(cy)) * S + Math.min(S - 1, Math.floor(cx))) * 3;
  const bgLum = lum([img[ci], img[ci + 1], img[ci + 2]]);
  if (Math.abs(lum(col) - bgLum) < 0.3) {
    // Too little contrast: push the shape's brightness away from the background's.
    const target = bgLum > 0.5 ? rng.uniform(0.0, 0.2) : rng.uniform(0.8, 1.0);
    const k = target / Math.max(1e-3, Math.max(...col));
    col = col.map((v) => Math.min(1, v * k)) as [number, number, number];
    if (bgLum <= 0.5 && lum(col) - bgLum < 0.3) col = col.map((v) => v + (1 - v) * 0.6) as [number, number, number];
  }
  const lo = [cx - R * 1.1 - 1, cy - R * 1.1 - 1];
  const hi = [cx + R * 1.1 + 1, cy + R * 1.1 + 1];
  if (name === "circle") {
    paint(img, S, col, lo[0], hi[0], lo[1], hi[1], (px, py) => Math.sqrt((px - cx) ** 2 + (py - cy) ** 2) - 0.9 * R);
  } else if (name === "ring") {
    paint(img, S, col, lo[0], hi[0], lo[1], hi[1], (px, py) => Math.abs(Math.sqrt((px - cx) ** 2 + (py - cy) ** 2) - 0.72 * R) - 0.22 * R);
  } else {
    const poly = POLYGONS[name];
    const v = new Float64Array(poly.length * 2);
    const cr = Math.cos(rot);
    const sr = Math.sin(rot);
    poly.forEach(([ux, uy], i) => {
      v[2 * i] = cx + R * (cr * ux - sr * uy);
      v[2 * i + 1] = cy + R * (sr * ux + cr * uy);
    });
    paint(img, S, col, lo[0], hi[0], lo[1], hi[1], (px, py) => sdPolygon(px, py, v));
  }

  return toBytes(img);
}

/** Options: n (train size, 20000), val (2000), test (2000), classes (8, at most 8). */
export function openShapes(spec: string, options: Record<string, string>, imageSize: number, seed = 0): Dataset {
  return openProcedural("shapes", spec, options, imageSize, seed, SHAPE_CLASSES, renderShape);
}
