/**
 * The built-in `scenes` dataset: procedural outdoor pictures with the global layout of
 * photographs, so that where a patch belongs is inferable from its content and its context, as
 * in natural images (the DILEMMA detection task). Sky above a horizon, ground below it; light
 * from one side (a sun in the sky on that side, objects lit on that side and casting shadows
 * away from it); haze towards the horizon; objects standing on the ground, made of parts (a roof
 * on walls, a crown on a trunk, wheels under a body). The class is the object. Nothing encodes
 * pixel coordinates: the horizon height, the light side, the colours, the object's place and
 * size are all random, so a patch's position must be read from the picture as a whole.
 * Image (split, i) is a pure function of (seed, split, i); the splits use different keys.
 */
import { Rng, mix32 } from "./prng.js";
import { cover, hsv, paint, sdPolygon, toBytes } from "./raster.js";
import { openProcedural } from "./procedural.js";
import type { Dataset } from "./types.js";

/** Object classes, in label order. */
export const SCENE_CLASSES = ["tree", "pine", "house", "car", "person", "tower", "cactus", "tent"] as const;

type RGB = [number, number, number];
type Sdf = (px: number, py: number) => number;

const mixC = (a: RGB, b: RGB, t: number): RGB => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const scaleC = (a: RGB, k: number): RGB => [a[0] * k, a[1] * k, a[2] * k];

/** Signed distance to an axis-aligned box centred at (cx, cy) with half sizes (hx, hy). */
const sdBox = (cx: number, cy: number, hx: number, hy: number): Sdf => (px, py) => {
  const dx = Math.abs(px - cx) - hx;
  const dy = Math.abs(py - cy) - hy;
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
};
const sdCircle = (cx: number, cy: number, r: number): Sdf => (px, py) => Math.hypot(px - cx, py - cy) - r;
const sdEllipse = (cx: number, cy: number, rx: number, ry: number): Sdf => (px, py) =>
  (Math.hypot((px - cx) / rx, (py - cy) / ry) - 1) * Math.min(rx, ry);
const sdPoly = (pts: number[]): Sdf => {
  const v = Float64Array.from(pts);
  return (px, py) => sdPolygon(px, py, v);
};

/**
 * One part of an object: a shape, its colour, and its bounding box (for the rasteriser).
 * Parts are painted in order; each is shaded by the light side.
 */
interface Part {
  sdf: Sdf;
  col: RGB;
  box: [number, number, number, number];
}

/**
 * The parts of object `label` standing with its base centre at (x, base), height h. `rng`
 * draws the object's own variation (proportions, colours).
 */
function objectParts(label: number, x: number, base: number, h: number, rng: Rng): Part[] {
  const parts: Part[] = [];
  const add = (sdf: Sdf, col: RGB, x0: number, x1: number, y0: number, y1: number) => parts.push({ sdf, col, box: [x0, x1, y0, y1] });
  const box = (cx: number, cy: number, hx: number, hy: number, col: RGB) => add(sdBox(cx, cy, hx, hy), col, cx - hx, cx + hx, cy - hy, cy + hy);
  const circle = (cx: number, cy: number, r: number, col: RGB) => add(sdCircle(cx, cy, r), col, cx - r, cx + r, cy - r, cy + r);
  const poly = (pts: number[], col: RGB) => {
    const xs = pts.filter((_, i) => i % 2 === 0);
    const ys = pts.filter((_, i) => i % 2 === 1);
    add(sdPoly(pts), col, Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys));
  };
  const bark = hsv(rng.uniform(0.05, 0.1), rng.uniform(0.5, 0.8), rng.uniform(0.25, 0.45));
  const leaf = hsv(rng.uniform(0.22, 0.4), rng.uniform(0.5, 0.9), rng.uniform(0.3, 0.7));
  switch (SCENE_CLASSES[label]) {
    case "tree": {
      const tw = h * rng.uniform(0.06, 0.1);
      box(x, base - h * 0.25, tw, h * 0.25, bark);
      const r = h * rng.uniform(0.28, 0.36);
      add(sdEllipse(x, base - h + r, r * rng.uniform(0.9, 1.2), r), leaf, x - r * 1.2, x + r * 1.2, base - h, base - h + 2 * r);
      break;
    }
    case "pine": {
      const tw = h * 0.06;
      box(x, base - h * 0.1, tw, h * 0.1, bark);
      const dark = scaleC(leaf, 0.7);
      const w = h * rng.uniform(0.28, 0.36);
      // Three stacked tiers, narrower towards the top.
      for (let t = 0; t < 3; t++) {
        const yb = base - h * (0.15 + 0.27 * t);
        const ww = w * (1 - 0.25 * t);
        poly([x - ww, yb, x + ww, yb, x, yb - h * 0.45], dark);
      }
      break;
    }
    case "house": {
      const w = h * rng.uniform(0.55, 0.75);
      const wallH = h * rng.uniform(0.5, 0.6);
      const wall = hsv(rng.next(), rng.uniform(0.1, 0.5), rng.uniform(0.6, 0.95));
      const roof = hsv(rng.uniform(-0.02, 0.08) + 1, rng.uniform(0.5, 0.9), rng.uniform(0.35, 0.7));
      box(x, base - wallH / 2, w, wallH / 2, wall);
      poly([x - w * 1.15, base - wallH, x + w * 1.15, base - wallH, x, base - h], roof);
      box(x + w * rng.uniform(-0.5, 0.5), base - wallH * 0.3, w * 0.18, wallH * 0.3, scaleC(wall, 0.45));
      break;
    }
    case "car": {
      const w = h * rng.uniform(0.7, 0.9);
      const body = hsv(rng.next(), rng.uniform(0.5, 1), rng.uniform(0.45, 0.95));
      const wr = h * 0.22;
      box(x, base - wr - h * 0.2, w, h * 0.22, body);
      const dir = rng.chance(0.5) ? 1 : -1;
      poly([x - w * 0.55 * dir, base - wr - h * 0.4, x + w * 0.35 * dir, base - wr - h * 0.4, x + w * 0.15 * dir, base - h, x - w * 0.4 * dir, base - h], mixC(body, [0.7, 0.8, 0.9], 0.5));
      circle(x - w * 0.6, base - wr, wr, [0.08, 0.08, 0.08]);
      circle(x + w * 0.6, base - wr, wr, [0.08, 0.08, 0.08]);
      break;
    }
    case "person": {
      const shirt = hsv(rng.next(), rng.uniform(0.4, 1), rng.uniform(0.4, 0.95));
      const trousers = hsv(rng.uniform(0.55, 0.7), rng.uniform(0.2, 0.7), rng.uniform(0.15, 0.45));
      const skin = hsv(rng.uniform(0.04, 0.1), rng.uniform(0.3, 0.6), rng.uniform(0.45, 0.95));
      const lw = h * 0.07;
      box(x - lw * 1.2, base - h * 0.22, lw, h * 0.22, trousers);
      box(x + lw * 1.2, base - h * 0.22, lw, h * 0.22, trousers);
      box(x, base - h * 0.6, h * 0.17, h * 0.18, shirt);
      circle(x, base - h * 0.88, h * 0.11, skin);
      break;
    }
    case "tower": {
      const w = h * rng.uniform(0.14, 0.2);
      const a = hsv(rng.next(), rng.uniform(0, 0.3), rng.uniform(0.75, 1));
      const b = hsv(rng.uniform(0.95, 1.02) % 1, rng.uniform(0.6, 0.9), rng.uniform(0.5, 0.85));
      // Stacked bands of two colours, slightly narrower towards the top, and a dark cap.
      for (let k = 0; k < 4; k++) {
        const y1 = base - (h * 0.85 * k) / 4;
        const hw = w * (1 - 0.08 * k);
        box(x, y1 - (h * 0.85) / 8, hw, (h * 0.85) / 8, k % 2 === 0 ? a : b);
      }
      poly([x - w * 0.9, base - h * 0.85, x + w * 0.9, base - h * 0.85, x, base - h], [0.15, 0.15, 0.18]);
      break;
    }
    case "cactus": {
      const c = hsv(rng.uniform(0.28, 0.38), rng.uniform(0.5, 0.8), rng.uniform(0.35, 0.6));
      const w = h * 0.09;
      box(x, base - h / 2, w, h / 2, c);
      const armY = base - h * rng.uniform(0.45, 0.6);
      box(x - w * 2.2, armY, w * 1.3, w * 0.7, c);
      box(x - w * 3.1, armY - h * 0.12, w * 0.7, h * 0.12, c);
      box(x + w * 2.2, armY + h * 0.08, w * 1.3, w * 0.7, c);
      box(x + w * 3.1, armY - h * 0.02, w * 0.7, h * 0.1, c);
      break;
    }
    case "tent": {
      const w = h * rng.uniform(0.8, 1.1);
      const c = hsv(rng.next(), rng.uniform(0.5, 1), rng.uniform(0.5, 0.95));
      poly([x - w, base, x + w, base, x, base - h], c);
      poly([x - w * 0.25, base, x + w * 0.25, base, x, base - h * 0.45], scaleC(c, 0.3));
      break;
    }
  }
  return parts;
}

/** Renders one scene with object `label` at `size` x `size` from a key; returns HWC RGB bytes. */
export function renderScene(label: number, size: number, seed: number, split: number, index: number): Uint8Array {
  const rng = new Rng(seed, 0x5ce7e, split, index);
  const S = size;
  const img = new Float32Array(S * S * 3);

  // Light: the sun is on one side, at some height; lower suns give warmer, dimmer light.
  const side = rng.chance(0.5) ? 1 : -1; // +1: light from the right
  const sunH = rng.uniform(0, 1);
  const warm = (1 - sunH) * rng.uniform(0, 0.6);
  const day = rng.uniform(0.65, 1);
  const horizon = S * rng.uniform(0.38, 0.62);

  // Sky: deeper at the zenith, paler at the horizon, brighter towards the sun.
  const zenith = scaleC(hsv(rng.uniform(0.55, 0.66), rng.uniform(0.45, 0.85), rng.uniform(0.5, 0.85)), day);
  const skyLow = mixC(scaleC(hsv(rng.uniform(0.52, 0.6), rng.uniform(0.05, 0.35), rng.uniform(0.8, 1)), day), [1, 0.75, 0.45], warm);
  // Ground: grass, earth or sand; darker and more saturated near the viewer.
  const gHue = rng.chance(0.6) ? rng.uniform(0.2, 0.36) : rng.uniform(0.07, 0.14);
  const near = scaleC(hsv(gHue, rng.uniform(0.45, 0.85), rng.uniform(0.25, 0.5)), day);
  const far = mixC(scaleC(hsv(gHue + rng.uniform(-0.02, 0.02), rng.uniform(0.25, 0.6), rng.uniform(0.45, 0.75)), day), skyLow, rng.uniform(0.15, 0.4));
  // Furrows / tufts whose spacing grows towards the viewer (perspective), and grain.
  const furrowAmp = rng.uniform(0.02, 0.08);
  const furrowK = rng.uniform(1.5, 3) * S;
  const furrowPhase = rng.uniform(0, 2 * Math.PI);
  const grain = rng.uniform(0.01, 0.04);
  const grainKey = rng.nextU32();
  const sunX = side > 0 ? S * rng.uniform(0.75, 1.05) : S * rng.uniform(-0.05, 0.25);
  const sunY = horizon * (0.85 - 0.75 * sunH);
  const sunR = S * rng.uniform(0.05, 0.08);
  const sideLight = rng.uniform(0.04, 0.12);
  // Distant hills along the horizon: a smooth height profile, hazy.
  const hillAmp = rng.chance(0.7) ? S * rng.uniform(0.03, 0.12) : 0;
  const hillF = [rng.uniform(1, 3), rng.uniform(3, 6)].map((f) => (2 * Math.PI * f) / S);
  const hillP = [rng.uniform(0, 6.3), rng.uniform(0, 6.3)];
  const hillCol = mixC(far, skyLow, 0.55);

  for (let y = 0; y < S; y++) {
    const py = y + 0.5;
    for (let x = 0; x < S; x++) {
      const px = x + 0.5;
      // Brighter on the sun's side of the picture.
      const lit = 1 + sideLight * side * (px / S - 0.5) * 2;
      let c: RGB;
      const hill = hillAmp * (0.6 + 0.25 * Math.sin(px * hillF[0] + hillP[0]) + 0.15 * Math.sin(px * hillF[1] + hillP[1]));
      if (py < horizon - hill) {
        const t = Math.pow(py / (horizon - hill), 0.8);
        c = mixC(zenith, skyLow, t);
        const d = Math.hypot(px - sunX, py - sunY) / S;
        c = mixC(c, [1, 0.97, 0.85], Math.exp(-d * 5) * 0.45);
      } else if (py < horizon) {
        c = hillCol;
      } else {
        const depth = (py - horizon) / (S - horizon); // 0 at the horizon, 1 at the bottom
        c = mixC(far, near, Math.pow(depth, 0.7));
        const furrow = Math.sin(furrowK / (py - horizon + S * 0.08) + furrowPhase);
        c = scaleC(c, 1 + furrowAmp * furrow);
      }
      const g = grain * ((mix32(grainKey ^ (y * S + x)) / 4294967296) * 2 - 1);
      const o = (y * S + x) * 3;
      img[o] = c[0] * lit + g;
      img[o + 1] = c[1] * lit + g;
      img[o + 2] = c[2] * lit + g;
    }
  }
  // The sun disc, when it is above the horizon.
  if (sunY + sunR < horizon) {
    const sunCol = mixC([1, 1, 0.9], [1, 0.7, 0.35], warm * 1.5);
    paint(img, S, sunCol, sunX - sunR - 1, sunX + sunR + 1, sunY - sunR - 1, sunY + sunR + 1, sdCircle(sunX, sunY, sunR));
  }

  // The object stands on the ground; nearer (lower) objects are larger.
  const base = horizon + (S - horizon) * rng.uniform(0.45, 0.92);
  const h = S * rng.uniform(0.5, 0.65) * (0.75 + 0.35 * ((base - horizon) / (S - horizon)));
  const ox = S * rng.uniform(0.3, 0.7);
  const parts = objectParts(label, ox, base, h, rng);
  let x0 = Infinity;
  let x1 = -Infinity;
  for (const p of parts) {
    x0 = Math.min(x0, p.box[0]);
    x1 = Math.max(x1, p.box[1]);
  }
  // Shadow on the ground, cast away from the light; longer when the sun is low.
  const shLen = (x1 - x0) * 0.5 + h * (1.1 - sunH) * 0.8;
  const shCx = ox - side * shLen * 0.5;
  const shadowSdf = sdEllipse(shCx, base, shLen * 0.6 + 0.5, Math.max(0.8, h * 0.07));
  const shade = 0.55 + 0.2 * (1 - day);
  paintScaled(img, S, shade, shCx - shLen, shCx + shLen, base - h * 0.1 - 1, base + h * 0.1 + 1, shadowSdf);
  // Each part lit on the sun's side and darker on the other (its own horizontal shading).
  for (const p of parts) {
    const [bx0, bx1, by0, by1] = p.box;
    const w = Math.max(1, bx1 - bx0);
    const col = scaleC(p.col, day);
    paintShaded(img, S, col, bx0 - 1, bx1 + 1, by0 - 1, by1 + 1, p.sdf, (px) => 0.8 + 0.35 * side * ((px - bx0) / w - 0.5));
  }

  return toBytes(img);
}

/** Like {@link paint}, with the colour scaled per pixel by `light(px)` (the part's shading). */
function paintShaded(img: Float32Array, S: number, col: RGB, x0: number, x1: number, y0: number, y1: number, sdf: Sdf, light: (px: number) => number): void {
  cover(S, x0, x1, y0, y1, sdf, (o, a, px) => {
    const k = light(px);
    for (let c = 0; c < 3; c++) img[o + c] += (col[c] * k - img[o + c]) * a;
  });
}

/** Darkens `img` by `factor` inside `sdf` (a shadow), anti-aliased. */
function paintScaled(img: Float32Array, S: number, factor: number, x0: number, x1: number, y0: number, y1: number, sdf: Sdf): void {
  cover(S, x0, x1, y0, y1, sdf, (o, a) => {
    for (let c = 0; c < 3; c++) img[o + c] *= 1 - (1 - factor) * a;
  });
}

/** Options: n (train size, 20000), val (2000), test (2000), classes (8, at most 8). */
export function openScenes(spec: string, options: Record<string, string>, imageSize: number, seed = 0): Dataset {
  return openProcedural("scenes", spec, options, imageSize, seed, SCENE_CLASSES, renderScene,
    // Set from the measurements in docs/quality.md.
    { augment: SCENES_AUGMENT });
}

/**
 * Training augmentation defaults of `scenes`: the layout is the signal, so crops stay large.
 * Flips keep a scene a valid scene (the light side is random), so they stay on.
 */
export const SCENES_AUGMENT = { cropScale: [0.7, 1] as [number, number], flip: true, colorJitter: true };
