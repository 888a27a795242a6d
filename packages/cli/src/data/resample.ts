/**
 * Separable resampling with a triangle (bilinear) filter whose support widens when shrinking,
 * so downscaling averages instead of aliasing (like PIL's antialiased bilinear).
 */

const clampIdx = (i: number, n: number): number => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** Per-output-pixel filter taps along one axis. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per output pixel. */
  weights: Float32Array;
  maxTaps: number;
}

/** Taps mapping the source interval [x0, x0+w) (pixel units) onto `n` output pixels. */
function makeTaps(srcLen: number, x0: number, w: number, n: number): Taps {
  const scale = Math.max(w / n, 1);
  const maxTaps = Math.ceil(scale) * 2 + 2;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Float32Array(n * maxTaps);
  for (let i = 0; i < n; i++) {
    const center = x0 + ((i + 0.5) * w) / n - 0.5;
    // Taps outside the image are dropped and the rest renormalised (as PIL does), rather than
    // repeating the edge pixel, which would overweight it when shrinking.
    let lo = Math.max(0, Math.floor(center - scale) + 1);
    let hi = Math.min(srcLen - 1, Math.ceil(center + scale) - 1);
    if (hi - lo + 1 > maxTaps) hi = lo + maxTaps - 1;
    if (hi < lo) lo = hi = clampIdx(Math.round(center), srcLen);
    let sum = 0;
    const base = i * maxTaps;
    for (let j = lo; j <= hi; j++) {
      const wt = Math.max(0, 1 - Math.abs(j - center) / scale);
      weights[base + j - lo] = wt;
      sum += wt;
    }
    if (sum <= 0) {
      // Degenerate (all weights zero): take the nearest pixel.
      lo = hi = clampIdx(Math.round(center), srcLen);
      weights[base] = 1;
      sum = 1;
    }
    for (let j = 0; j <= hi - lo; j++) weights[base + j] /= sum;
    start[i] = lo;
    count[i] = hi - lo + 1;
  }
  return { start, count, weights, maxTaps };
}

/** A crop rectangle in source pixel units (may be fractional). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Resamples the `crop` of an interleaved RGB uint8 image to `outW` x `outH` and writes planar
 * float channels (CHW, values in [0, 1]) to `out` at `offset`. `flip` mirrors horizontally.
 */
export function cropResizeToPlanar(
  src: Uint8Array,
  srcW: number,
  srcH: number,
  crop: Rect,
  outW: number,
  outH: number,
  flip: boolean,
  out: Float32Array,
  offset: number,
): void {
  const tx = makeTaps(srcW, crop.x, crop.w, outW);
  const ty = makeTaps(srcH, crop.y, crop.h, outH);
  // Rows of the source that the vertical pass reads.
  let rowLo = Infinity;
  let rowHi = -Infinity;
  for (let i = 0; i < outH; i++) {
    rowLo = Math.min(rowLo, ty.start[i]);
    rowHi = Math.max(rowHi, ty.start[i] + ty.count[i] - 1);
  }
  const nRows = rowHi - rowLo + 1;
  // Horizontal pass: tmp[r][x][c] for each needed source row r.
  const tmp = new Float32Array(nRows * outW * 3);
  for (let r = 0; r < nRows; r++) {
    const rowBase = clampIdx(rowLo + r, srcH) * srcW * 3;
    const tBase = r * outW * 3;
    for (let x = 0; x < outW; x++) {
      const s = tx.start[x];
      const c = tx.count[x];
      const wb = x * tx.maxTaps;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      for (let k = 0; k < c; k++) {
        const wt = tx.weights[wb + k];
        const p = rowBase + clampIdx(s + k, srcW) * 3;
        a0 += wt * src[p];
        a1 += wt * src[p + 1];
        a2 += wt * src[p + 2];
      }
      const ox = flip ? outW - 1 - x : x;
      const t = tBase + ox * 3;
      tmp[t] = a0;
      tmp[t + 1] = a1;
      tmp[t + 2] = a2;
    }
  }
  // Vertical pass into planar output, scaled to [0, 1].
  const plane = outW * outH;
  const inv = 1 / 255;
  for (let y = 0; y < outH; y++) {
    const s = ty.start[y] - rowLo;
    const c = ty.count[y];
    const wb = y * ty.maxTaps;
    for (let x = 0; x < outW; x++) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      for (let k = 0; k < c; k++) {
        const wt = ty.weights[wb + k];
        const t = ((s + k) * outW + x) * 3;
        a0 += wt * tmp[t];
        a1 += wt * tmp[t + 1];
        a2 += wt * tmp[t + 2];
      }
      const o = offset + y * outW + x;
      out[o] = Math.min(1, Math.max(0, a0 * inv));
      out[o + plane] = Math.min(1, Math.max(0, a1 * inv));
      out[o + 2 * plane] = Math.min(1, Math.max(0, a2 * inv));
    }
  }
}

/** The largest centred square of a `w` x `h` image (the "cover" crop). */
export function centreSquare(w: number, h: number): Rect {
  const side = Math.min(w, h);
  return { x: (w - side) / 2, y: (h - side) / 2, w: side, h: side };
}

/**
 * Resizes an interleaved uint8 image with `channels` (1 = grey, 3 = RGB) to a `size` x `size`
 * RGB image, centre-cropping to a square first. Returns the input unchanged when it already fits.
 */
export function resizeCoverRgb(src: Uint8Array, w: number, h: number, channels: 1 | 3, size: number): Uint8Array {
  let rgb = src;
  if (channels === 1) {
    rgb = new Uint8Array(w * h * 3);
    for (let i = 0, j = 0; i < w * h; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = src[i];
  }
  if (w === size && h === size) return rgb;
  const planar = new Float32Array(size * size * 3);
  cropResizeToPlanar(rgb, w, h, centreSquare(w, h), size, size, false, planar, 0);
  const out = new Uint8Array(size * size * 3);
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    out[i * 3] = Math.round(planar[i] * 255);
    out[i * 3 + 1] = Math.round(planar[i + plane] * 255);
    out[i * 3 + 2] = Math.round(planar[i + 2 * plane] * 255);
  }
  return out;
}
