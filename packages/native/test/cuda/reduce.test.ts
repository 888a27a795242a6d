// gpu.reduce on host buffers (the CPU reference the CUDA kernels are checked against on a GPU)
// against tfjs cpu's reductions on the same random inputs: every op, float32 / int32 / bool,
// edge shapes (outer, r or inner 1), NaNs; and the argument errors.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { afterAll, describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { DTYPE, REDUCE, type GpuAddon } from "../../src/cuda/addon.js";
import { hostBuffers, onTfjsCpu } from "./host_buffers.js";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.reduce === "function";
if (!ready) console.warn(`[cuda tests] gpu.reduce unavailable, skipped: ${loadError() ?? "not in this addon"}`);
const rt = ready ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0;

const rnd = lcg(4242);
const randF = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());
const randI = (n: number, lo: number, hi: number) => Int32Array.from({ length: n }, () => lo + Math.floor((hi - lo + 1) * rnd()));

const { put, alloc, freeAll, onBoth } = hostBuffers(() => gpu!);
function reduce(op: number, x: Float32Array | Int32Array, dtype: number, outer: number, r: number, inner: number, outInt: boolean) {
  const xi = put(x);
  const oi = alloc(outer * inner);
  gpu!.reduce(op, xi, oi, outer, r, inner, dtype as 0 | 1 | 2);
  const out = outInt ? new Int32Array(outer * inner) : new Float32Array(outer * inner);
  if (out.length > 0) gpu!.download(oi, out);
  return out;
}

function close(want: ArrayLike<number>, got: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (!(Number.isNaN(w) && Number.isNaN(g))) expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
      continue;
    }
    if (!(Math.abs(w - g) <= atol + rtol * Math.abs(w))) expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
  }
}

const SHAPES: [number, number, number][] = [
  [3, 5, 4], [1, 7, 1], [4, 1, 3], [1, 1, 1], [6, 300, 1], [1, 5000, 1], [2, 4, 33], [1, 9, 70], [5, 1, 1], [1, 1, 8],
];

describe.skipIf(!ready)("gpu.reduce (host) vs tfjs cpu", () => {
  onTfjsCpu(freeAll);

  type Ref = (x: tf.Tensor) => tf.Tensor;
  const floatOps: [string, number, Ref, boolean, number][] = [
    ["Sum", REDUCE.Sum, (x) => tf.sum(x, 1), false, 1e-6],
    ["Mean", REDUCE.Mean, (x) => tf.mean(x, 1), false, 1e-5],
    ["Max", REDUCE.Max, (x) => tf.max(x, 1), false, 0],
    ["Min", REDUCE.Min, (x) => tf.min(x, 1), false, 0],
    ["ArgMax", REDUCE.ArgMax, (x) => tf.argMax(x, 1), true, 0],
    ["ArgMin", REDUCE.ArgMin, (x) => tf.argMin(x, 1), true, 0],
  ];

  it.each(floatOps)("float32 %s on [outer, r, inner] shapes", (name, op, ref, outInt, rtol) => {
    for (const [outer, r, inner] of SHAPES) {
      const x = randF(outer * r * inner, -2, 2);
      const want = tf.tidy(() => ref(tf.tensor3d(x, [outer, r, inner])).dataSync());
      close(want, reduce(op, x, DTYPE.float32, outer, r, inner, outInt), rtol, rtol * 1e-1, `${name} [${outer},${r},${inner}]`);
    }
  });

  it("float32 Prod", () => {
    for (const [outer, r, inner] of SHAPES.filter((s) => s[1] <= 300)) {
      const x = randF(outer * r * inner, 0.9, 1.1);
      const want = tf.tidy(() => tf.prod(tf.tensor3d(x, [outer, r, inner]), 1).dataSync());
      close(want, reduce(REDUCE.Prod, x, DTYPE.float32, outer, r, inner, false), 1e-6, 0, `Prod [${outer},${r},${inner}]`);
    }
  });

  it.each(floatOps)("float32 %s with NaNs (first, middle, none)", (name, op, ref, outInt, rtol) => {
    const [outer, r, inner] = [4, 6, 3];
    const x = randF(outer * r * inner);
    x[0] = NaN; // o=0, j=0, i=0: at index 0 of its reduction
    x[1 * r * inner + 3 * inner + 1] = NaN; // o=1, j=3, i=1: in the middle
    x[2 * r * inner + 5 * inner + 2] = NaN; // o=2, j=5, i=2: last
    const want = tf.tidy(() => ref(tf.tensor3d(x, [outer, r, inner])).dataSync());
    close(want, reduce(op, x, DTYPE.float32, outer, r, inner, outInt), rtol, 1e-7, `${name} with NaN`);
  });

  it("ArgMax / ArgMin return the first index on ties", () => {
    const x = new Float32Array([1, 3, 3, 0, 0, -1, 3, -1]);
    expect(Array.from(reduce(REDUCE.ArgMax, x, DTYPE.float32, 1, 8, 1, true))).toEqual([1]);
    expect(Array.from(reduce(REDUCE.ArgMin, x, DTYPE.float32, 1, 8, 1, true))).toEqual([5]);
    const xi = new Int32Array([2, 7, 7, 2]);
    expect(Array.from(reduce(REDUCE.ArgMax, xi, DTYPE.int32, 2, 2, 1, true))).toEqual([1, 0]);
    expect(Array.from(reduce(REDUCE.ArgMin, xi, DTYPE.int32, 1, 2, 2, true))).toEqual([0, 1]);
  });

  const intOps: [string, number, Ref, boolean][] = [
    ["Sum", REDUCE.Sum, (x) => tf.sum(x, 1), true],
    ["Mean", REDUCE.Mean, (x) => tf.mean(x, 1), false],
    ["Max", REDUCE.Max, (x) => tf.max(x, 1), true],
    ["Min", REDUCE.Min, (x) => tf.min(x, 1), true],
    ["ArgMax", REDUCE.ArgMax, (x) => tf.argMax(x, 1), true],
    ["ArgMin", REDUCE.ArgMin, (x) => tf.argMin(x, 1), true],
  ];
  it.each(intOps)("int32 %s", (name, op, ref, outInt) => {
    for (const [outer, r, inner] of SHAPES) {
      const x = randI(outer * r * inner, -50, 50);
      const t = tf.tensor3d(x, [outer, r, inner], "int32");
      const res = ref(t);
      expect(res.dtype).toBe(outInt ? "int32" : "float32");
      const want = res.dataSync();
      tf.dispose([t, res]);
      // tfjs's int32 Mean divides every term by r in float32 before summing: allow its rounding.
      const tol = name === "Mean" ? 1e-5 : 0;
      close(want, reduce(op, x, DTYPE.int32, outer, r, inner, outInt), tol, tol, `int32 ${name} [${outer},${r},${inner}]`);
    }
  });

  it("int32 Prod, and int32 Sum wrapping like tfjs's Int32Array store", () => {
    const x = randI(3 * 6 * 2, -3, 3);
    const want = tf.tidy(() => tf.prod(tf.tensor3d(x, [3, 6, 2], "int32"), 1).dataSync());
    expect(Array.from(reduce(REDUCE.Prod, x, DTYPE.int32, 3, 6, 2, true))).toEqual(Array.from(want));
    const big = new Int32Array([2 ** 31 - 1, 5, -(2 ** 31), -7]);
    const wantBig = tf.tidy(() => tf.sum(tf.tensor2d(big, [2, 2], "int32"), 1).dataSync());
    expect(Array.from(reduce(REDUCE.Sum, big, DTYPE.int32, 2, 2, 1, true))).toEqual(Array.from(wantBig));
  });

  it.each([["Any", REDUCE.Any], ["All", REDUCE.All]] as const)("bool %s", (name, op) => {
    for (const [outer, r, inner] of SHAPES) {
      for (const p of [0.1, 0.5, 0.95]) {
        const x = Int32Array.from({ length: outer * r * inner }, () => (rnd() < p ? 1 : 0));
        const want = tf.tidy(() => {
          const t = tf.tensor3d(x, [outer, r, inner], "bool");
          return (name === "Any" ? tf.any(t, 1) : tf.all(t, 1)).dataSync();
        });
        expect(Array.from(reduce(op, x, DTYPE.bool, outer, r, inner, true)), `${name} [${outer},${r},${inner}] p=${p}`)
          .toEqual(Array.from(want));
      }
    }
  });

  it("r = 0 gives the identities; outer or inner 0 writes nothing", () => {
    const empty = new Float32Array(0);
    expect(Array.from(reduce(REDUCE.Sum, empty, DTYPE.float32, 2, 0, 1, false))).toEqual([0, 0]);
    expect(Array.from(reduce(REDUCE.Prod, empty, DTYPE.float32, 1, 0, 2, false))).toEqual([1, 1]);
    expect(reduce(REDUCE.Max, empty, DTYPE.float32, 1, 0, 1, false)[0]).toBe(-Infinity);
    expect(Number.isNaN(reduce(REDUCE.Mean, empty, DTYPE.float32, 1, 0, 1, false)[0])).toBe(true);
    expect(Array.from(reduce(REDUCE.All, new Int32Array(0), DTYPE.bool, 1, 0, 1, true))).toEqual([1]);
    expect(reduce(REDUCE.Sum, empty, DTYPE.float32, 0, 5, 3, false).length).toBe(0);
  });

  it("throws on bad ids, small buffers, unknown op / dtype, Any on float32", () => {
    const x = put(randF(12));
    const out = alloc(4);
    expect(() => gpu!.reduce(REDUCE.Sum, 987654, out, 1, 12, 1, DTYPE.float32)).toThrow(/reduce/);
    expect(() => gpu!.reduce(REDUCE.Sum, x, 987654, 1, 12, 1, DTYPE.float32)).toThrow(/reduce/);
    expect(() => gpu!.reduce(REDUCE.Sum, x, out, 2, 12, 1, DTYPE.float32)).toThrow(/bytes/); // x too small
    expect(() => gpu!.reduce(REDUCE.Sum, x, out, 1, 2, 6, DTYPE.float32)).toThrow(/bytes/); // out too small
    expect(() => gpu!.reduce(99, x, out, 1, 12, 1, DTYPE.float32)).toThrow(/op/);
    expect(() => gpu!.reduce(REDUCE.Sum, x, out, 1, 12, 1, 7 as 0)).toThrow(/dtype/);
    expect(() => gpu!.reduce(REDUCE.Any, x, out, 1, 12, 1, DTYPE.float32)).toThrow(/Any/);
    expect(() => gpu!.reduce(REDUCE.Sum, x, out, -1, 12, 1, DTYPE.float32)).toThrow(/negative/);
  });
});


describe.skipIf(!cudaReady)("gpu.reduce: cuda kernels vs the host reference", () => {
  afterAll(() => {
    freeAll();
  });
  // Every launch path of reduce.cu: warp rows, block rows, split rows, columns, split columns.
  const PATHS: [number, number, number][] = [
    [100, 50, 1], [3, 5000, 1], [1, 100000, 1], [2, 20000, 1], [7, 30, 40], [1, 50000, 100], [4, 3000, 2], [1, 1, 1],
    [5, 0, 3], [2000, 3, 1],
  ];
  const FLOAT_OPS = ["Sum", "Mean", "Max", "Min", "Prod", "ArgMax", "ArgMin"] as const;
  const INT_OPS = ["Sum", "Mean", "Max", "Min", "Prod", "ArgMax", "ArgMin", "Any", "All"] as const;
  const intOut = (name: string) => name.startsWith("Arg") || name === "Any" || name === "All";

  it.each(PATHS)("float32 [%i, %i, %i], every op, with NaNs in some rows", (outer, r, inner) => {
    for (const name of FLOAT_OPS) {
      const x = name === "Prod" ? randF(outer * r * inner, 0.99, 1.01) : randF(outer * r * inner, -2, 2);
      if (name !== "Prod" && x.length > 7) {
        x[0] = NaN;
        x[Math.floor(x.length / 2)] = NaN;
      }
      const [[h], [c]] = onBoth([x], [outer * inner], ([xi], [oi]) => gpu!.reduce(REDUCE[name], xi, oi, outer, r, inner, DTYPE.float32));
      const what = `cuda float32 ${name} [${outer},${r},${inner}]`;
      if (intOut(name)) expect(Array.from(new Int32Array(c.buffer)), what).toEqual(Array.from(new Int32Array(h.buffer)));
      else if (name === "Max" || name === "Min") expect(Array.from(c), what).toEqual(Array.from(h));
      else close(h, c, 1e-5, 1e-5, what);
    }
  });

  it.each(PATHS)("int32 / bool [%i, %i, %i], every op", (outer, r, inner) => {
    for (const name of INT_OPS) {
      const logic = name === "Any" || name === "All";
      const x = logic ? Int32Array.from({ length: outer * r * inner }, () => (rnd() < (name === "Any" ? 0.001 : 0.999) ? 1 : 0))
        : name === "Prod" ? randI(outer * r * inner, -3, 3) : randI(outer * r * inner, -1000, 1000);
      const dtype = logic ? DTYPE.bool : DTYPE.int32;
      const [[h], [c]] = onBoth([x], [outer * inner], ([xi], [oi]) => gpu!.reduce(REDUCE[name], xi, oi, outer, r, inner, dtype));
      const what = `cuda int32 ${name} [${outer},${r},${inner}]`;
      if (name === "Mean") close(h, c, 1e-6, 1e-6, what);
      else expect(Array.from(new Int32Array(c.buffer)), what).toEqual(Array.from(new Int32Array(h.buffer)));
    }
  });

  it("is deterministic (split paths included)", () => {
    for (const [outer, r, inner] of [[1, 100000, 1], [1, 50000, 100]] as const) {
      const x = randF(outer * r * inner);
      const run = () => onBoth([x], [outer * inner], ([xi], [oi]) => gpu!.reduce(REDUCE.Sum, xi, oi, outer, r, inner, DTYPE.float32))[1][0];
      expect(Array.from(run())).toEqual(Array.from(run()));
    }
  });
});
