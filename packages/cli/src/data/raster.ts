/** Anti-aliased signed-distance rasterising shared by the procedural data sets (shapes, scenes). */

/** Exact signed distance to a polygon (Inigo Quilez); vertices as flat [x0,y0,x1,y1,...]. */
export function sdPolygon(px: number, py: number, v: Float64Array): number {
  const n = v.length >> 1;
  let d = (px - v[0]) ** 2 + (py - v[1]) ** 2;
  let s = 1;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    const vix = v[2 * i];
    const viy = v[2 * i + 1];
    const ex = v[2 * j] - vix;
    const ey = v[2 * j + 1] - viy;
    const wx = px - vix;
    const wy = py - viy;
    let t = (wx * ex + wy * ey) / (ex * ex + ey * ey);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const bx = wx - ex * t;
    const by = wy - ey * t;
    const dd = bx * bx + by * by;
    if (dd < d) d = dd;
    const c1 = py >= viy;
    const c2 = py < v[2 * j + 1];
    const c3 = ex * wy > ey * wx;
    if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
  }
  return s * Math.sqrt(d);
}

/** Signed distance (pixels) to a capsule from (ax,ay) to (bx,by) with radius r. */
export function sdSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number, r: number): number {
  const pax = px - ax;
  const pay = py - ay;
  const bax = bx - ax;
  const bay = by - ay;
  let h = (pax * bax + pay * bay) / (bax * bax + bay * bay);
  h = h < 0 ? 0 : h > 1 ? 1 : h;
  return Math.sqrt((pax - bax * h) ** 2 + (pay - bay * h) ** 2) - r;
}

export function hsv(h: number, s: number, v: number): [number, number, number] {
  const f = (k: number): number => {
    const m = (k + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(m, 4 - m, 1));
  };
  return [f(5), f(3), f(1)];
}

/**
 * Calls `blend(o, a, px)` for every pixel of the box [x0, x1] x [y0, y1] that `sdf` covers:
 * `o` is the pixel's offset in an RGB float image, `a` its anti-aliased coverage 0.5 - sdf
 * (a one-pixel ramp, 1 inside), `px` the pixel centre's x.
 */
export function cover(
  S: number,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  sdf: (px: number, py: number) => number,
  blend: (o: number, a: number, px: number) => void,
): void {
  const xa = Math.max(0, Math.floor(x0));
  const xb = Math.min(S - 1, Math.ceil(x1));
  const ya = Math.max(0, Math.floor(y0));
  const yb = Math.min(S - 1, Math.ceil(y1));
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) {
      const d = sdf(x + 0.5, y + 0.5);
      if (d >= 0.5) continue;
      blend((y * S + x) * 3, d <= -0.5 ? 1 : 0.5 - d, x + 0.5);
    }
  }
}

/** Blends `col` into `img` where `sdf` covers the box (see {@link cover}). */
export function paint(
  img: Float32Array,
  S: number,
  col: readonly number[],
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  sdf: (px: number, py: number) => number,
): void {
  cover(S, x0, x1, y0, y1, sdf, (o, a) => {
    img[o] += (col[0] - img[o]) * a;
    img[o + 1] += (col[1] - img[o + 1]) * a;
    img[o + 2] += (col[2] - img[o + 2]) * a;
  });
}

/** An RGB float image in [0, 1] as bytes (clamped, rounded). */
export function toBytes(img: Float32Array): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let i = 0; i < out.length; i++) {
    const v = img[i];
    out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return out;
}
