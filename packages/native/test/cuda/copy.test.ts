// gpu.transpose / gpu.stridedCopy on host buffers (the CPU reference of the CUDA kernels) against
// tfjs cpu: transposes of rank 1..8 with random permutations (plus the shapes that take the CUDA
// tiled path), and slice / pad / concat / reverse / broadcast written as strided copies, on
// float32 (NaN included) and int32; argument errors (bad ids, small buffers, rank > 8, ...).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { WHERE, type GpuAddon, type Where } from "../../src/cuda/addon.js";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.transpose === "function" && typeof gpu?.stridedCopy === "function";
if (!ready) console.warn(`[cuda tests] gpu.transpose/stridedCopy unavailable, skipped: ${loadError() ?? "not in this addon"}`);
const rt = ready ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0;

const rnd = lcg(31337);
const randF = (n: number) => Float32Array.from({ length: n }, () => 2 * rnd() - 1);
const randI = (n: number) => Int32Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 31) - 2 ** 30);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}
function randomPerm(r: number): number[] {
  const p = Array.from({ length: r }, (_, i) => i);
  for (let i = r - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

const live: number[] = [];
function put(data: Float32Array | Int32Array): number {
  const id = gpu!.alloc(WHERE.host, data.byteLength);
  live.push(id);
  if (data.length > 0) gpu!.upload(id, data);
  return id;
}
function get<T extends Float32Array | Int32Array>(id: number, like: T): T {
  if (like.length > 0) gpu!.download(id, like);
  return like;
}
// Bitwise comparison (copies must move bits, NaN payloads included).
function sameBits(want: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number }, got: Float32Array | Int32Array, what: string) {
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  expect(g.length, what).toBe(w.length);
  for (let i = 0; i < w.length; i++) if (w[i] !== g[i]) expect.fail(`${what} [${i}]: want bits ${w[i]}, got ${g[i]}`);
}

describe.skipIf(!ready)("gpu.transpose / gpu.stridedCopy (host) vs tfjs cpu", () => {
  let prev = "";
  beforeAll(async () => {
    prev = tf.getBackend();
    await tf.setBackend("cpu");
  });
  afterAll(async () => {
    for (const id of live.splice(0)) gpu!.free(id);
    if (prev) await tf.setBackend(prev);
  });

  function checkTranspose(shape: number[], perm: number[], int = false) {
    const x = int ? randI(size(shape)) : randF(size(shape));
    if (!int && x.length > 2) x[1] = NaN;
    const want = tf.tidy(() => tf.transpose(tf.tensor(x, shape, int ? "int32" : "float32"), perm).dataSync()) as Float32Array | Int32Array;
    const out = put(int ? new Int32Array(x.length) : new Float32Array(x.length));
    gpu!.transpose(put(x), out, shape, perm);
    sameBits(want, get(out, int ? new Int32Array(x.length) : new Float32Array(x.length)), `transpose [${shape}] by [${perm}]`);
  }

  it("rank 1..8, random shapes and permutations, float32 and int32", () => {
    for (let r = 1; r <= 8; r++) {
      for (let t = 0; t < 6; t++) {
        const maxDim = r <= 3 ? 9 : r <= 5 ? 4 : 3;
        const shape = Array.from({ length: r }, () => 1 + Math.floor(rnd() * maxDim));
        checkTranspose(shape, randomPerm(r), t % 2 === 1);
      }
    }
  });

  it.each([
    [[40, 50], [1, 0]], [[3, 40, 50], [0, 2, 1]], [[2, 33, 5, 65], [0, 3, 2, 1]], [[2, 5, 3, 4], [0, 2, 1, 3]],
    [[7, 1, 9], [2, 1, 0]], [[1, 1, 1], [2, 0, 1]], [[64, 3], [1, 0]], [[4, 6, 8], [1, 2, 0]], [[4, 6, 8], [2, 0, 1]],
    [[2, 3, 4, 5, 6], [4, 3, 2, 1, 0]], [[2, 197, 3, 8], [2, 0, 3, 1]],
  ])("transpose [%s] by [%s]", (shape, perm) => checkTranspose(shape, perm));

  it("rank 0 (a scalar) copies one element", () => {
    const out = put(new Float32Array(1));
    gpu!.transpose(put(new Float32Array([7.5])), out, [], []);
    expect(get(out, new Float32Array(1))[0]).toBe(7.5);
  });

  /** Runs a strided copy into a dst pre-filled with `fill`; returns the dst contents. */
  function strided(src: Float32Array | Int32Array, dstLen: number, shape: number[], srcOffset: number, srcStrides: number[],
    dstOffset: number, dstStrides: number[], fill = 0): Float32Array {
    const dst = put(new Float32Array(dstLen).fill(fill));
    gpu!.stridedCopy(put(src), dst, shape, srcOffset, srcStrides, dstOffset, dstStrides);
    return get(dst, new Float32Array(dstLen));
  }
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

  it.each([
    [[10], [3], [4]], [[5, 6], [1, 2], [3, 3]], [[4, 5, 6], [1, 0, 2], [2, 5, 3]], [[2, 3, 4, 5, 6, 2, 3, 2], [1, 1, 0, 2, 1, 0, 1, 1], [1, 2, 4, 2, 4, 2, 2, 1]],
    [[3, 1, 7], [0, 0, 1], [3, 1, 5]], [[6, 8], [0, 0], [6, 8]],
  ])("slice of [%s] at [%s] size [%s]", (shape, begin, sz) => {
    const x = randF(size(shape));
    const want = tf.tidy(() => tf.slice(tf.tensor(x, shape), begin, sz).dataSync()) as Float32Array;
    const st = stridesOf(shape);
    sameBits(want, strided(x, size(sz), sz, dot(begin, st), st, 0, stridesOf(sz)), `slice [${shape}]`);
  });

  it.each([
    [[5], [[2, 3]]], [[3, 4], [[1, 0], [2, 1]]], [[2, 3, 4], [[0, 1], [1, 1], [2, 0]]], [[1, 2, 1, 3], [[1, 1], [0, 0], [2, 0], [0, 3]]],
  ] as [number[], [number, number][]][])("pad [%s] by %j (value 0.5)", (shape, pads) => {
    const x = randF(size(shape));
    const want = tf.tidy(() => tf.pad(tf.tensor(x, shape), pads, 0.5).dataSync()) as Float32Array;
    const outShape = shape.map((n, d) => n + pads[d][0] + pads[d][1]);
    const os = stridesOf(outShape);
    sameBits(want, strided(x, size(outShape), shape, 0, stridesOf(shape), dot(pads.map((p) => p[0]), os), os, 0.5), `pad [${shape}]`);
  });

  it.each([
    [[2, 3], [2, 5], 1], [[4, 3], [1, 3], 0], [[2, 3, 4], [2, 2, 4], 1], [[2, 3, 1], [2, 3, 6], 2], [[7], [9], 0],
  ] as [number[], number[], number][])("concat [%s] and [%s] on axis %i", (sa, sb, axis) => {
    const a = randF(size(sa)), b = randF(size(sb));
    const want = tf.tidy(() => tf.concat([tf.tensor(a, sa), tf.tensor(b, sb)], axis).dataSync()) as Float32Array;
    const outShape = sa.map((n, d) => (d === axis ? n + sb[d] : n));
    const os = stridesOf(outShape);
    const dst = put(new Float32Array(size(outShape)));
    gpu!.stridedCopy(put(a), dst, sa, 0, stridesOf(sa), 0, os);
    gpu!.stridedCopy(put(b), dst, sb, 0, stridesOf(sb), sa[axis] * os[axis], os);
    sameBits(want, get(dst, new Float32Array(size(outShape))), `concat axis ${axis}`);
  });

  it("reverse (negative source strides) and broadcast (zero source strides), int32 bits", () => {
    const shape = [3, 4, 5];
    const x = randI(size(shape));
    const st = stridesOf(shape);
    const rev = tf.tidy(() => tf.reverse(tf.tensor(x, shape, "int32"), [0, 2]).dataSync()) as Int32Array;
    const dst = put(new Int32Array(x.length));
    gpu!.stridedCopy(put(x), dst, shape, 2 * st[0] + 4 * st[2], [-st[0], st[1], -st[2]], 0, st);
    sameBits(rev, get(dst, new Int32Array(x.length)), "reverse");
    const row = randI(5);
    const bc = tf.tidy(() => tf.broadcastTo(tf.tensor(row, [1, 5], "int32"), [4, 5]).dataSync()) as Int32Array;
    const dst2 = put(new Int32Array(20));
    gpu!.stridedCopy(put(row), dst2, [4, 5], 0, [0, 1], 0, [5, 1]);
    sameBits(bc, get(dst2, new Int32Array(20)), "broadcast");
  });

  it("empty shapes copy nothing", () => {
    const dst = put(new Float32Array([1, 2]));
    gpu!.stridedCopy(put(new Float32Array(0)), dst, [0, 3], 0, [3, 1], 0, [3, 1]);
    gpu!.transpose(put(new Float32Array(0)), put(new Float32Array(0)), [2, 0], [1, 0]);
    expect(Array.from(get(dst, new Float32Array(2)))).toEqual([1, 2]);
  });

  it("throws on bad ids, small buffers, rank > 8, bad perms, rank mismatch, out-of-range strides", () => {
    const x = put(randF(24)), out = put(new Float32Array(24));
    expect(() => gpu!.transpose(987654, out, [4, 6], [1, 0])).toThrow(/transpose/);
    expect(() => gpu!.transpose(x, 987654, [4, 6], [1, 0])).toThrow(/transpose/);
    expect(() => gpu!.transpose(x, out, [5, 6], [1, 0])).toThrow(/bytes/);
    expect(() => gpu!.transpose(x, put(new Float32Array(23)), [4, 6], [1, 0])).toThrow(/bytes/);
    expect(() => gpu!.transpose(x, out, [1, 1, 1, 1, 1, 1, 1, 1, 24], [0, 1, 2, 3, 4, 5, 6, 7, 8])).toThrow(/rank/);
    expect(() => gpu!.transpose(x, out, [4, 6], [1, 1])).toThrow(/perm/);
    expect(() => gpu!.transpose(x, out, [4, 6], [0, 2])).toThrow(/perm/);
    expect(() => gpu!.transpose(x, out, [4, 6], [0])).toThrow(/rank/);
    expect(() => gpu!.stridedCopy(x, out, [1, 1, 1, 1, 1, 1, 1, 1, 24], 0, [1, 1, 1, 1, 1, 1, 1, 1, 1], 0, [1, 1, 1, 1, 1, 1, 1, 1, 1])).toThrow(/rank/);
    expect(() => gpu!.stridedCopy(x, out, [4, 6], 0, [6, 1], 0, [6])).toThrow(/rank/);
    expect(() => gpu!.stridedCopy(x, out, [4, 6], 1, [6, 1], 0, [6, 1])).toThrow(/bytes/); // src reads one past the end
    expect(() => gpu!.stridedCopy(x, out, [4, 6], 0, [6, 1], 1, [6, 1])).toThrow(/bytes/); // dst writes one past the end
    expect(() => gpu!.stridedCopy(x, out, [4, 6], 0, [-6, 1], 0, [6, 1])).toThrow(/before/);
    expect(() => gpu!.stridedCopy(x, out, [4, 6], -1, [6, 1], 0, [6, 1])).toThrow(/negative/);
    expect(() => gpu!.stridedCopy(x, out, [4, 6], 0, [6, 1], 0, [0, 1])).toThrow(/stride/);
  });
});

/** Runs `call` with (src, dst) on host and on cuda buffers (same contents); returns [host dst, cuda dst]. */
function onBoth(src: Float32Array | Int32Array, dstInit: Float32Array, call: (src: number, dst: number) => void): Uint32Array[] {
  return ([WHERE.host, WHERE.cuda] as Where[]).map((where) => {
    const si = gpu!.alloc(where, src.byteLength), di = gpu!.alloc(where, dstInit.byteLength);
    live.push(si, di);
    if (src.length > 0) gpu!.upload(si, src);
    if (dstInit.length > 0) gpu!.upload(di, dstInit);
    call(si, di);
    const out = new Uint32Array(dstInit.length);
    if (out.length > 0) gpu!.download(di, out);
    return out;
  });
}

describe.skipIf(!cudaReady)("gpu.transpose / gpu.stridedCopy: cuda kernels vs the host reference", () => {
  afterAll(() => {
    for (const id of live.splice(0)) gpu!.free(id);
  });
  const poison = (n: number) => new Float32Array(n).fill(-777);

  it.each([
    // tiled path (dst contiguous on the last axis, src on another; both >= 8), batches of 0..3 axes
    [[40, 50], [1, 0]], [[3, 40, 50], [0, 2, 1]], [[2, 33, 5, 65], [0, 3, 2, 1]], [[1000, 40], [1, 0]], [[2, 197, 6, 64], [0, 2, 3, 1]],
    [[2, 3, 9, 4, 17], [4, 1, 0, 3, 2]], [[8, 8], [1, 0]],
    // general path
    [[2, 5, 3, 4], [0, 2, 1, 3]], [[64, 3], [1, 0]], [[7, 1, 9], [2, 1, 0]], [[2, 3, 4, 5, 6, 2, 3, 2], [7, 5, 3, 1, 0, 2, 4, 6]],
    [[100000], [0]], [[2, 197, 6, 64], [0, 2, 1, 3]],
  ])("transpose [%s] by [%s]", (shape, perm) => {
    const x = randI(size(shape));
    const [h, c] = onBoth(x, poison(x.length), (si, di) => gpu!.transpose(si, di, shape, perm));
    expect(c).toEqual(h);
  });

  it("slice, pad, concat, reverse and broadcast as strided copies", () => {
    const x = randF(4 * 5 * 6);
    // slice [1,0,2] size [2,5,3] of [4,5,6]
    let [h, c] = onBoth(x, poison(30), (si, di) => gpu!.stridedCopy(si, di, [2, 5, 3], 32, [30, 6, 1], 0, [15, 3, 1]));
    expect(c).toEqual(h);
    // pad [4,5,6] into [6,7,8] at [1,1,1]
    [h, c] = onBoth(x, poison(336), (si, di) => gpu!.stridedCopy(si, di, [4, 5, 6], 0, [30, 6, 1], 56 + 8 + 1, [56, 8, 1]));
    expect(c).toEqual(h);
    // concat: second half of an axis-1 concat of [4,5,6] and [4,5,6]
    [h, c] = onBoth(x, poison(240), (si, di) => gpu!.stridedCopy(si, di, [4, 5, 6], 0, [30, 6, 1], 30, [60, 6, 1]));
    expect(c).toEqual(h);
    // reverse axes 0 and 2
    [h, c] = onBoth(x, poison(120), (si, di) => gpu!.stridedCopy(si, di, [4, 5, 6], 3 * 30 + 5, [-30, 6, -1], 0, [30, 6, 1]));
    expect(c).toEqual(h);
    // broadcast a row to 9 rows (src stride 0), and a strided transpose into a padded dst
    [h, c] = onBoth(x, poison(54), (si, di) => gpu!.stridedCopy(si, di, [9, 6], 0, [0, 1], 0, [6, 1]));
    expect(c).toEqual(h);
    [h, c] = onBoth(x, poison(12 * 40), (si, di) => gpu!.stridedCopy(si, di, [10, 12], 0, [1, 10], 3, [1, 40]));
    expect(c).toEqual(h);
  });
});
