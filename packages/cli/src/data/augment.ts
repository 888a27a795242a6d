/**
 * View recipes (MoCo v3, DINO global crops, eval) on planar float images.
 * Every random draw comes from {@link Rng}(seed, step, slot, view), so a view is a pure
 * function of its key and the source image.
 */
import { Rng } from "./prng.js";
import { centreSquare, cropResizeToPlanar, type Rect } from "./resample.js";
import type { Sample } from "./types.js";

/** Which views a batch carries. */
export type ViewRecipe = "mocov3" | "dino" | "eval";

/** ImageNet channel mean and standard deviation (applied after all augmentations). */
export const NORMALIZE: { mean: [number, number, number]; std: [number, number, number] } = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/**
 * The strength of a training recipe's augmentations, on top of its per-view blur / solarize.
 * Random-resized crops and flips remove much of what says where a part belongs (the DILEMMA
 * detection task), so data sets whose layout carries that information default to weaker ones.
 */
export interface Augment {
  /** Area range of RandomResizedCrop, as fractions of the image (0 < min <= max <= 1). */
  cropScale: [number, number];
  /** Horizontal flip with probability 0.5. */
  flip: boolean;
  /** ColorJitter(0.4, 0.4, 0.2, 0.1) with p 0.8 and grayscale with p 0.2. */
  colorJitter: boolean;
}

/** The recipes' own augmentations (MoCo v3 / DINO global crops): what `undefined` means. */
export function recipeAugment(recipe: ViewRecipe): Augment {
  const r = RECIPES[recipe];
  if (r === undefined) throw new Error(`unknown view recipe "${recipe}": use "mocov3", "dino" or "eval"`);
  return { cropScale: r === null ? [1, 1] : [...r[0].cropScale], flip: r !== null, colorJitter: r !== null };
}

/** Throws a clear error when `a` is not a valid {@link Augment}. */
export function checkAugment(a: Augment): void {
  const [lo, hi] = a.cropScale ?? [];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo > 0 && lo <= hi && hi <= 1)) {
    throw new Error(`crop scale ${JSON.stringify(a.cropScale)} is invalid: use min,max with 0 < min <= max <= 1, e.g. 0.08,1`);
  }
  if (typeof a.flip !== "boolean" || typeof a.colorJitter !== "boolean") throw new Error("augment flip and colorJitter must be true or false");
}

/** Parameters of one augmented view. */
interface ViewParams {
  cropScale: [number, number];
  blurP: number;
  solarizeP: number;
}

/** Per-view parameters of each recipe (MoCo v3 / BYOL asymmetric blur and solarize). */
const RECIPES: Record<ViewRecipe, ViewParams[] | null> = {
  mocov3: [
    { cropScale: [0.08, 1], blurP: 1.0, solarizeP: 0 },
    { cropScale: [0.08, 1], blurP: 0.1, solarizeP: 0.2 },
  ],
  dino: [
    { cropScale: [0.4, 1], blurP: 1.0, solarizeP: 0 },
    { cropScale: [0.4, 1], blurP: 0.1, solarizeP: 0.2 },
  ],
  eval: null,
};

/** Number of views a recipe produces. */
export function viewCount(recipe: ViewRecipe): number {
  const r = RECIPES[recipe];
  if (r === undefined) throw new Error(`unknown view recipe "${recipe}": use "mocov3", "dino" or "eval"`);
  return r === null ? 1 : r.length;
}

const RATIO: [number, number] = [3 / 4, 4 / 3];

/** torchvision RandomResizedCrop.get_params: 10 tries, then a centre crop clamped to the ratio. */
export function randomResizedCrop(rng: Rng, w: number, h: number, scale: [number, number]): Rect {
  const area = w * h;
  const logLo = Math.log(RATIO[0]);
  const logHi = Math.log(RATIO[1]);
  for (let i = 0; i < 10; i++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const ratio = Math.exp(rng.uniform(logLo, logHi));
    const cw = Math.round(Math.sqrt(target * ratio));
    const ch = Math.round(Math.sqrt(target / ratio));
    if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
      return { x: rng.int(w - cw + 1), y: rng.int(h - ch + 1), w: cw, h: ch };
    }
  }
  const inRatio = w / h;
  let cw = w;
  let ch = h;
  if (inRatio < RATIO[0]) ch = Math.round(w / RATIO[0]);
  else if (inRatio > RATIO[1]) cw = Math.round(h * RATIO[1]);
  return { x: (w - cw) / 2, y: (h - ch) / 2, w: cw, h: ch };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** ColorJitter(0.4, 0.4, 0.2, 0.1) with torchvision's random order of the four ops. */
function colorJitter(rng: Rng, img: Float32Array, o: number, n: number): void {
  const b = rng.uniform(0.6, 1.4);
  const c = rng.uniform(0.6, 1.4);
  const s = rng.uniform(0.8, 1.2);
  const hue = rng.uniform(-0.1, 0.1);
  // Random order of the four ops (Fisher–Yates on 4 items).
  const order = [0, 1, 2, 3];
  for (let i = 3; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const op of order) {
    if (op === 0) {
      for (let i = o; i < o + 3 * n; i++) img[i] = clamp01(img[i] * b);
    } else if (op === 1) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += 0.299 * img[o + i] + 0.587 * img[o + n + i] + 0.114 * img[o + 2 * n + i];
      mean /= n;
      for (let i = o; i < o + 3 * n; i++) img[i] = clamp01((img[i] - mean) * c + mean);
    } else if (op === 2) {
      for (let i = 0; i < n; i++) {
        const g = 0.299 * img[o + i] + 0.587 * img[o + n + i] + 0.114 * img[o + 2 * n + i];
        for (let ch = 0; ch < 3; ch++) {
          const k = o + ch * n + i;
          img[k] = clamp01((img[k] - g) * s + g);
        }
      }
    } else {
      shiftHue(img, o, n, hue);
    }
  }
}

/** Consumes the draws of {@link colorJitter} (4 factors + 3 for the shuffle) without applying them. */
function skipJitterDraws(rng: Rng): void {
  for (let i = 0; i < 4; i++) rng.next();
  for (let i = 3; i > 0; i--) rng.int(i + 1);
}

/** Rotates hue by `h` turns (HSV round trip, as torchvision's adjust_hue). */
export function shiftHue(img: Float32Array, o: number, n: number, h: number): void {
  for (let i = 0; i < n; i++) {
    const r = img[o + i];
    const g = img[o + n + i];
    const b = img[o + 2 * n + i];
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const d = max - min;
    if (d <= 0) continue; // grey: hue undefined, unchanged
    let hh: number;
    if (max === r) hh = (g - b) / d;
    else if (max === g) hh = 2 + (b - r) / d;
    else hh = 4 + (r - g) / d;
    hh = hh / 6 + h;
    hh -= Math.floor(hh);
    const v = max;
    const sat = d / max;
    const h6 = hh * 6;
    const sector = Math.floor(h6) % 6;
    const f = h6 - Math.floor(h6);
    const p = v * (1 - sat);
    const q = v * (1 - sat * f);
    const t = v * (1 - sat * (1 - f));
    let R: number, G: number, B: number;
    switch (sector) {
      case 0: R = v; G = t; B = p; break;
      case 1: R = q; G = v; B = p; break;
      case 2: R = p; G = v; B = t; break;
      case 3: R = p; G = q; B = v; break;
      case 4: R = t; G = p; B = v; break;
      default: R = v; G = p; B = q; break;
    }
    img[o + i] = R;
    img[o + n + i] = G;
    img[o + 2 * n + i] = B;
  }
}

function grayscale(img: Float32Array, o: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = 0.299 * img[o + i] + 0.587 * img[o + n + i] + 0.114 * img[o + 2 * n + i];
    img[o + i] = img[o + n + i] = img[o + 2 * n + i] = g;
  }
}

/** Separable Gaussian blur with edge clamping, in place on each plane. */
export function gaussianBlur(img: Float32Array, o: number, size: number, sigma: number): void {
  const radius = Math.min(size - 1, Math.max(1, Math.ceil(3 * sigma)));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const n = size * size;
  const tmp = new Float32Array(n);
  for (let ch = 0; ch < 3; ch++) {
    const p = o + ch * n;
    blurPass(img, p, tmp, 0, size, 1, size, k, radius);
    blurPass(tmp, 0, img, p, size, size, 1, k, radius);
  }
}

/**
 * One 1-D pass: for each of `size` lines (stride `lineStep`), convolves along `step`.
 * Interior pixels skip the edge clamping, which dominates the cost at small sizes.
 */
function blurPass(
  src: Float32Array, so: number, dst: Float32Array, d0: number,
  size: number, lineStep: number, step: number, k: Float32Array, radius: number,
): void {
  for (let line = 0; line < size; line++) {
    const sBase = so + line * lineStep;
    const dBase = d0 + line * lineStep;
    for (let x = 0; x < size; x++) {
      let a = 0;
      if (x >= radius && x < size - radius) {
        const c = sBase + (x - radius) * step;
        for (let j = 0; j < k.length; j++) a += k[j] * src[c + j * step];
      } else {
        for (let j = -radius; j <= radius; j++) {
          const xx = x + j < 0 ? 0 : x + j >= size ? size - 1 : x + j;
          a += k[j + radius] * src[sBase + xx * step];
        }
      }
      dst[dBase + x * step] = a;
    }
  }
}

function normalize(img: Float32Array, o: number, n: number): void {
  for (let ch = 0; ch < 3; ch++) {
    const m = NORMALIZE.mean[ch];
    const inv = 1 / NORMALIZE.std[ch];
    for (let i = o + ch * n; i < o + (ch + 1) * n; i++) img[i] = (img[i] - m) * inv;
  }
}

/**
 * Writes view `view` of `sample` under `recipe` as a normalised CHW float image of
 * `size` x `size` into `out` at `offset`. Randomness is keyed by (seed, step, slot, view).
 */
export function renderView(
  sample: Sample,
  recipe: ViewRecipe,
  view: number,
  size: number,
  key: { seed: number; step: number; slot: number },
  out: Float32Array,
  offset: number,
  augment?: Augment,
): void {
  if (view < 0 || view >= viewCount(recipe)) throw new Error(`view ${view} does not exist in recipe "${recipe}" (${viewCount(recipe)} views)`);
  const params = RECIPES[recipe];
  const n = size * size;
  if (params === null) {
    // eval: centre square, resized; no randomness.
    cropResizeToPlanar(sample.pixels, sample.width, sample.height, centreSquare(sample.width, sample.height), size, size, false, out, offset);
    normalize(out, offset, n);
    return;
  }
  const p = params[view];
  const rng = new Rng(key.seed, key.step, key.slot, view);
  // The draws happen whatever the options, so switching one augmentation off leaves the
  // others' random numbers unchanged.
  const crop = randomResizedCrop(rng, sample.width, sample.height, augment?.cropScale ?? p.cropScale);
  const flip = rng.chance(0.5) && (augment?.flip ?? true);
  cropResizeToPlanar(sample.pixels, sample.width, sample.height, crop, size, size, flip, out, offset);
  const jitter = augment?.colorJitter ?? true;
  if (rng.chance(0.8)) {
    if (jitter) colorJitter(rng, out, offset, n);
    else skipJitterDraws(rng);
  }
  if (rng.chance(0.2) && jitter) grayscale(out, offset, n);
  if (rng.chance(p.blurP)) {
    // sigma U(0.1, 2.0) is defined at 224 px; scale it to the image, but not below a quarter,
    // so blur still matters at 32 px instead of vanishing.
    const sigma = rng.uniform(0.1, 2.0) * Math.max(size / 224, 0.25);
    gaussianBlur(out, offset, size, sigma);
  }
  if (rng.chance(p.solarizeP)) {
    for (let i = offset; i < offset + 3 * n; i++) if (out[i] >= 0.5) out[i] = 1 - out[i];
  }
  normalize(out, offset, n);
}
