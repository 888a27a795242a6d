// gpu.fill / cast / unary / binary / select / addN on host buffers (the CPU references the CUDA
// kernels are checked against on a GPU) against tfjs cpu on the same inputs: every op code,
// float32 / int32 / bool, broadcasting over ranks 1..6 and scalars, n = 0, NaN / inf / -0;
// and the argument errors.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { BINARY, DTYPE, UNARY, WHERE, type DTypeCode, type GpuAddon } from "../../src/cuda/addon.js";
import { hostBuffers, onTfjsCpu } from "./host_buffers.js";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.binary === "function" && typeof gpu?.alloc === "function";
if (!ready) console.warn(`[cuda tests] gpu elementwise unavailable, skipped: ${loadError() ?? "not in this addon"}`);
const rt = ready ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0;

const rnd = lcg(777);
const randF = (n: number, lo = -3, hi = 3) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());
const randI = (n: number, lo: number, hi: number) => Int32Array.from({ length: n }, () => lo + Math.floor((hi - lo + 1) * rnd()));
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, 1.5, 2.5, -2.5, -0.5, 1, -1, 6, 7, -1e-30, 1e-30, 100, -100, 3e9, -3e9];

const { put, alloc, getF, getI, freeAll } = hostBuffers(() => gpu!);

/** Equal values (NaN equals NaN; +0 and -0 differ), or within rtol where given. */
function same(want: ArrayLike<number>, got: ArrayLike<number>, what: string, rtol = 0): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (!(Number.isNaN(w) && Number.isNaN(g))) expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
    } else if (rtol === 0 || !Number.isFinite(w)) {
      if (!Object.is(w, g)) expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
    } else if (!(Math.abs(w - g) <= rtol * Math.abs(w) + 1e-38)) {
      expect.fail(`${what} [${i}]: want ${w}, got ${g}`);
    }
  }
}

/** tfjs broadcast shape and, per operand, its strides over the output axes (0 where broadcast). */
function broadcast(...shapes: number[][]): { out: number[]; strides: number[][] } {
  const rank = Math.max(1, ...shapes.map((s) => s.length));
  const out = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let d = 0; d < s.length; d++) {
      const o = rank - s.length + d;
      if (s[d] !== 1) out[o] = s[d];
    }
  }
  const strides = shapes.map((s) => {
    const st = new Array(rank).fill(0);
    let acc = 1;
    for (let d = s.length - 1; d >= 0; d--) {
      const o = rank - s.length + d;
      st[o] = s[d] === 1 && out[o] !== 1 ? 0 : acc;
      acc *= s[d];
    }
    return st;
  });
  return { out, strides };
}
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Broadcast shape pairs of ranks 0..6 (rank 0 = scalar). */
const PAIRS: [number[], number[]][] = [
  [[7], [7]], [[], []], [[], [5]], [[4], []], [[3, 4], [4]], [[3, 4], [3, 1]], [[1, 4], [3, 1]], [[2, 3, 4], [2, 1, 4]],
  [[2, 1, 3, 1], [1, 5, 1, 2]], [[2, 3, 1, 2, 2], [3, 4, 1, 1]], [[2, 1, 2, 3, 1, 2], [1, 1, 1, 1, 3, 2]],
  [[1, 1, 1], [1]], [[0, 3], [3]], [[33], [33]], [[4, 70], [70]],
];

describe.skipIf(!ready)("gpu elementwise (host) vs tfjs cpu", () => {
  onTfjsCpu(freeAll);

  it("fill: float32, int32 and bool values, n = 0", () => {
    const cases: [number, DTypeCode, tf.DataType][] = [
      [1.5, DTYPE.float32, "float32"], [-0, DTYPE.float32, "float32"], [NaN, DTYPE.float32, "float32"], [0.1, DTYPE.float32, "float32"],
      [7, DTYPE.int32, "int32"], [-3, DTYPE.int32, "int32"], [1, DTYPE.bool, "bool"], [0, DTYPE.bool, "bool"],
    ];
    for (const n of [0, 1, 5, 1027]) {
      for (const [value, code, dtype] of cases) {
        const o = alloc(n);
        gpu!.fill(o, n, value, code);
        const want = tf.fill([n], value, dtype).dataSync();
        same(Array.from(want), Array.from(code === DTYPE.float32 ? getF(o, n) : getI(o, n)), `fill ${value} ${dtype} n=${n}`);
      }
    }
  });

  it("cast: every dtype pair, with NaN / inf / wrapping / fractional values", () => {
    const f = Float32Array.from([...SPECIAL, ...randF(50, -10, 10), 2 ** 31, -(2 ** 31), 2 ** 32 + 5, -7.9, 7.9]);
    const i = Int32Array.from([0, 1, -1, 5, -5, 2 ** 24, -(2 ** 24), 123456, ...randI(40, -1000, 1000)]);
    const b = Int32Array.from(randI(40, 0, 1));
    const src: [Float32Array | Int32Array, DTypeCode, tf.DataType][] = [[f, DTYPE.float32, "float32"], [i, DTYPE.int32, "int32"], [b, DTYPE.bool, "bool"]];
    for (const [data, from, fromName] of src) {
      for (const [to, toName] of [[DTYPE.float32, "float32"], [DTYPE.int32, "int32"], [DTYPE.bool, "bool"]] as const) {
        const x = put(data), o = alloc(data.length);
        gpu!.cast(x, o, data.length, from, to);
        const t = tf.tensor(fromName === "bool" ? Array.from(data) : data, [data.length], fromName);
        const want = Array.from(tf.cast(t, toName).dataSync());
        const got = to === DTYPE.float32 ? getF(o, data.length) : getI(o, data.length);
        same(want.map((v) => (to === DTYPE.float32 ? Math.fround(v) : v)), Array.from(got), `cast ${fromName} -> ${toName}`);
      }
    }
    const z = alloc(0);
    gpu!.cast(z, z, 0, DTYPE.float32, DTYPE.int32); // n = 0: nothing to do
  });

  // [name, code, tfjs op, rtol (0 = exact)]
  const unaryOps: [string, number, (x: tf.Tensor, alpha: number) => tf.Tensor, number][] = [
    ["Abs", UNARY.Abs, (x) => tf.abs(x), 0],
    ["Exp", UNARY.Exp, (x) => tf.exp(x), 1.2e-7],
    ["Log", UNARY.Log, (x) => tf.log(x), 1.2e-7],
    ["Log1p", UNARY.Log1p, (x) => tf.log1p(x), 1.2e-7],
    ["Neg", UNARY.Neg, (x) => tf.neg(x), 0],
    ["Relu", UNARY.Relu, (x) => tf.relu(x), 0],
    ["Rsqrt", UNARY.Rsqrt, (x) => tf.rsqrt(x), 1.2e-7],
    ["Sqrt", UNARY.Sqrt, (x) => tf.sqrt(x), 0],
    ["Square", UNARY.Square, (x) => tf.square(x), 0],
    ["Step", UNARY.Step, (x, a) => tf.step(x, a), 0],
    ["Sigmoid", UNARY.Sigmoid, (x) => tf.sigmoid(x), 1.2e-7],
    ["Tanh", UNARY.Tanh, (x) => tf.tanh(x), 1.2e-7],
    ["Reciprocal", UNARY.Reciprocal, (x) => tf.reciprocal(x), 0],
    ["Sign", UNARY.Sign, (x) => tf.sign(x), 0],
    ["Floor", UNARY.Floor, (x) => tf.floor(x), 0],
    ["Ceil", UNARY.Ceil, (x) => tf.ceil(x), 0],
    ["Expm1", UNARY.Expm1, (x) => tf.expm1(x), 1.2e-7],
    ["LeakyRelu", UNARY.LeakyRelu, (x, a) => tf.leakyRelu(x, a), 0],
    ["Relu6", UNARY.Relu6, (x) => tf.relu6(x), 0],
    ["Softplus", UNARY.Softplus, (x) => tf.softplus(x), 1.2e-7],
    ["Erf", UNARY.Erf, (x) => tf.erf(x), 1.2e-7],
    ["Elu", UNARY.Elu, (x) => tf.elu(x), 1.2e-7],
    ["Round", UNARY.Round, (x) => tf.round(x), 0],
    ["Sin", UNARY.Sin, (x) => tf.sin(x), 1.2e-7],
    ["Cos", UNARY.Cos, (x) => tf.cos(x), 1.2e-7],
  ];

  it("covers every UNARY code", () => {
    expect(unaryOps.map((u) => u[1]).sort((a, b) => a - b)).toEqual(Object.values(UNARY).filter((c) => c !== UNARY.LogicalNot).sort((a, b) => a - b));
  });

  it.each(unaryOps)("unary %s on random, special and n = 0 inputs", (name, code, ref, rtol) => {
    for (const alpha of [0.2, -1.5]) {
      for (const data of [Float32Array.from(SPECIAL), randF(1001, -8, 8), randF(4, -1, 1), new Float32Array(0)]) {
        const n = data.length;
        const x = put(data), o = alloc(n);
        gpu!.unary(code, x, o, n, alpha);
        const want = tf.tidy(() => ref(tf.tensor1d(data), alpha).dataSync());
        same(Array.from(want).map(Math.fround), Array.from(getF(o, n)), `${name} alpha=${alpha} n=${n}`, rtol);
      }
    }
  });

  it("unary LogicalNot on int32 and bool", () => {
    for (const data of [randI(37, 0, 1), Int32Array.from([0, 1, -1, 5, 0]), new Int32Array(0)]) {
      const x = put(data), o = alloc(data.length);
      gpu!.unary(UNARY.LogicalNot, x, o, data.length, 0);
      const want = tf.logicalNot(tf.tensor1d(Array.from(data, (v) => v !== 0), "bool")).dataSync();
      same(Array.from(want), Array.from(getI(o, data.length)), `LogicalNot n=${data.length}`);
    }
  });

  // [name, code, tfjs kernel, input dtypes, rtol]
  const binaryOps: [string, number, string, ("float32" | "int32" | "bool")[], number][] = [
    ["Add", BINARY.Add, "Add", ["float32", "int32"], 0],
    ["Sub", BINARY.Sub, "Sub", ["float32", "int32"], 0],
    ["Mul", BINARY.Mul, "Multiply", ["float32", "int32"], 0],
    ["Div", BINARY.Div, "RealDiv", ["float32", "int32"], 0],
    ["Max", BINARY.Max, "Maximum", ["float32", "int32"], 0],
    ["Min", BINARY.Min, "Minimum", ["float32", "int32"], 0],
    ["SquaredDifference", BINARY.SquaredDifference, "SquaredDifference", ["float32", "int32"], 0],
    ["Pow", BINARY.Pow, "Pow", ["float32", "int32"], 1.2e-7],
    ["FloorDiv", BINARY.FloorDiv, "FloorDiv", ["float32", "int32"], 0],
    ["Mod", BINARY.Mod, "Mod", ["float32", "int32"], 0],
    ["Equal", BINARY.Equal, "Equal", ["float32", "int32"], 0],
    ["NotEqual", BINARY.NotEqual, "NotEqual", ["float32", "int32"], 0],
    ["Greater", BINARY.Greater, "Greater", ["float32", "int32"], 0],
    ["GreaterEqual", BINARY.GreaterEqual, "GreaterEqual", ["float32", "int32"], 0],
    ["Less", BINARY.Less, "Less", ["float32", "int32"], 0],
    ["LessEqual", BINARY.LessEqual, "LessEqual", ["float32", "int32"], 0],
    ["LogicalAnd", BINARY.LogicalAnd, "LogicalAnd", ["bool"], 0],
    ["LogicalOr", BINARY.LogicalOr, "LogicalOr", ["bool"], 0],
  ];

  it("covers every BINARY code", () => {
    expect(binaryOps.map((b) => b[1]).sort((a, b) => a - b)).toEqual(Object.values(BINARY).sort((a, b) => a - b));
  });

  // values with ties, zeros (division by zero), specials; ints small, plus some that overflow
  function operand(dtype: string, n: number, which: number): Float32Array | Int32Array {
    if (dtype === "bool") return randI(n, 0, 1);
    if (dtype === "int32") {
      const v = randI(n, -9, 9);
      for (let i = 0; i < n; i += 7) v[i] = which === 0 ? 2_000_000_000 - i : 1_999_999_999 + i; // wraps on + and *
      return v;
    }
    const v = randF(n, -4, 4);
    for (let i = 0; i < n; i++) {
      const r = rnd();
      if (r < 0.15) v[i] = Math.round(v[i]); // integers: exact ties, FloorDiv / Mod / Pow of whole numbers
      else if (r < 0.2) v[i] = SPECIAL[Math.floor(rnd() * SPECIAL.length)];
    }
    return v;
  }

  it.each(binaryOps)("binary %s with broadcasting over ranks 0..6", (name, code, kernel, dtypes, rtol) => {
    for (const dtype of dtypes) {
      for (const [sa, sb] of PAIRS) {
        const { out, strides } = broadcast(sa, sb);
        const n = size(out);
        const a = operand(dtype, size(sa), 0), b = operand(dtype, size(sb), 1);
        const ia = put(a), ib = put(b), io = alloc(n);
        const inDtype = DTYPE[dtype];
        gpu!.binary(code, ia, ib, io, out, strides[0], strides[1], inDtype);
        const ta = tf.tensor(dtype === "bool" ? Array.from(a, (v) => v !== 0) : a, sa, dtype);
        const tb = tf.tensor(dtype === "bool" ? Array.from(b, (v) => v !== 0) : b, sb, dtype);
        const r = tf.engine().runKernel(kernel, { a: ta, b: tb }) as tf.Tensor;
        let want = Array.from(r.dataSync());
        // tfjs' FloorDiv kernel returns int32 even for float32 inputs; ours keeps float32 (the
        // backend casts): compare with the float value it rounds from.
        if (name === "FloorDiv" && dtype === "float32") want = floorDivRef(a, b, sa, sb, out);
        const outFloat = dtype === "float32" && code < 20;
        const got = outFloat ? getF(io, n) : getI(io, n);
        same(outFloat ? want.map(Math.fround) : want, Array.from(got), `${name} ${dtype} [${sa}] x [${sb}]`, rtol);
        tf.dispose([ta, tb, r]);
      }
    }
  });

  function floorDivRef(a: Float32Array | Int32Array, b: Float32Array | Int32Array, sa: number[], sb: number[], out: number[]): number[] {
    const { strides } = broadcast(sa, sb);
    const n = size(out);
    const res: number[] = [];
    for (let i = 0; i < n; i++) {
      let rem = i, oa = 0, ob = 0;
      for (let d = out.length - 1; d >= 0; d--) {
        const c = rem % out[d];
        rem = Math.floor(rem / out[d]);
        oa += c * strides[0][d];
        ob += c * strides[1][d];
      }
      res.push(Math.fround(Math.floor(a[oa] / b[ob])));
    }
    return res;
  }

  it("binary on strided (non-broadcast) layouts the JS side may pass: transposed operand", () => {
    // out[i, j] = a[j, i] + b[i, j]: a read with strides [1, 3]
    const a = randF(12), b = randF(12);
    const ia = put(a), ib = put(b), io = alloc(12);
    gpu!.binary(BINARY.Add, ia, ib, io, [4, 3], [1, 4], [3, 1], DTYPE.float32);
    const want = tf.add(tf.transpose(tf.tensor2d(a, [3, 4])), tf.tensor2d(b, [4, 3])).dataSync();
    same(Array.from(want), Array.from(getF(io, 12)), "transposed add");
  });

  it("select with broadcasting (float32 and int32 values, bool condition)", () => {
    const triples: [number[], number[], number[]][] = [
      [[5], [5], [5]], [[], [3, 2], [3, 2]], [[3, 1], [3, 4], [4]], [[2, 1, 3], [1, 4, 1], [2, 4, 3]],
      [[1, 2, 1, 2, 1, 2], [2, 1, 2, 1, 2, 1], [2]], [[], [], []], [[0, 2], [2], [2]],
    ];
    for (const dtype of ["float32", "int32"] as const) {
      for (const [sc, sa, sb] of triples) {
        const { out, strides } = broadcast(sc, sa, sb);
        const n = size(out);
        const c = randI(size(sc), 0, 1);
        const a = dtype === "float32" ? randF(size(sa)) : randI(size(sa), -100, 100);
        const b = dtype === "float32" ? randF(size(sb)) : randI(size(sb), -100, 100);
        const ic = put(c), ia = put(a), ib = put(b), io = alloc(n);
        gpu!.select(ic, ia, ib, io, out, strides[0], strides[1], strides[2]);
        if (n === 0) continue; // (tfjs' where mis-sizes a zero-size broadcast; nothing to compare)
        const want = tf.where(tf.tensor(Array.from(c, (v) => v !== 0), sc, "bool"), tf.tensor(a, sa, dtype), tf.tensor(b, sb, dtype)).dataSync();
        same(Array.from(want), Array.from(dtype === "float32" ? getF(io, n) : getI(io, n)), `select ${dtype} [${sc}] [${sa}] [${sb}]`);
      }
    }
  });

  it("addN: 1..20 inputs summed in order (bit-equal to tfjs), n = 0", () => {
    for (const [k, n] of [[1, 10], [2, 1001], [3, 7], [9, 64], [20, 33], [4, 0]]) {
      const ins = Array.from({ length: k }, () => randF(n, -100, 100));
      if (n > 0) ins[0][0] = -0; // tfjs sums onto zeros: -0 becomes +0
      const ids = ins.map((x) => put(x));
      const o = alloc(n);
      gpu!.addN(o, ids, n);
      if (n === 0) continue;
      const want = tf.addN(ins.map((d) => tf.tensor1d(d))).dataSync();
      same(Array.from(want), Array.from(getF(o, n)), `addN k=${k} n=${n}`);
    }
  });

  describe("argument errors", () => {
    it("bad buffer ids", () => {
      const o = alloc(4);
      expect(() => gpu!.fill(987654, 4, 1, DTYPE.float32)).toThrow(/fill.*not a live buffer/);
      expect(() => gpu!.unary(UNARY.Exp, 987654, o, 4, 0)).toThrow(/not a live buffer/);
      expect(() => gpu!.binary(BINARY.Add, o, 0, o, [4], [1], [1], DTYPE.float32)).toThrow(/binary b/);
      expect(() => gpu!.addN(o, [o, 987654], 4)).toThrow(/addN input.*not a live buffer/);
      // out among the inputs: the CUDA path (8 inputs per launch) would re-read an overwritten out
      expect(() => gpu!.addN(o, [alloc(4), o], 4)).toThrow(/addN: out must not be an input buffer/);
      expect(() => gpu!.cast(-1, o, 4, DTYPE.float32, DTYPE.int32)).toThrow(/cast x/);
    });

    it("buffers too small for the sizes and strides", () => {
      const small = alloc(3), big = alloc(64);
      expect(() => gpu!.fill(small, 4, 1, DTYPE.float32)).toThrow(/has 12 bytes, the kernel needs 16/);
      expect(() => gpu!.unary(UNARY.Neg, small, big, 4, 0)).toThrow(/unary x/);
      expect(() => gpu!.cast(big, small, 4, DTYPE.float32, DTYPE.int32)).toThrow(/cast out/);
      // b spans 1 + 3*2 = 7 elements through its stride
      expect(() => gpu!.binary(BINARY.Add, big, small, big, [4], [1], [2], DTYPE.float32)).toThrow(/binary b.*needs 28/);
      expect(() => gpu!.binary(BINARY.Add, big, big, small, [2, 2], [2, 1], [2, 1], DTYPE.float32)).toThrow(/binary out/);
      expect(() => gpu!.select(small, big, big, big, [4], [1], [1], [1])).toThrow(/select cond/);
      expect(() => gpu!.addN(big, [big, small], 4)).toThrow(/addN input/);
    });

    it("bad op codes, dtypes, ranks and counts", () => {
      const b = alloc(16);
      expect(() => gpu!.unary(99, b, b, 4, 0)).toThrow(/unknown op code 99/);
      expect(() => gpu!.binary(10, b, b, b, [4], [1], [1], DTYPE.float32)).toThrow(/unknown op code 10/);
      expect(() => gpu!.binary(BINARY.Add, b, b, b, [4], [1], [1], 7 as DTypeCode)).toThrow(/unknown dtype code 7/);
      expect(() => gpu!.binary(BINARY.Add, b, b, b, [2, 2], [1], [2, 1], DTYPE.float32)).toThrow(/rank/);
      expect(() => gpu!.binary(BINARY.Add, b, b, b, [1, 1, 1, 1, 1, 1, 1, 1, 1], [], [], DTYPE.float32)).toThrow(/rank 9/);
      expect(() => gpu!.binary(BINARY.Add, b, b, b, [4], [-1], [1], DTYPE.float32)).toThrow(/negative stride/);
      expect(() => gpu!.fill(b, -1, 0, DTYPE.float32)).toThrow(/negative/);
      expect(() => gpu!.fill(b, 4, 0, 5 as DTypeCode)).toThrow(/unknown dtype code 5/);
      expect(() => gpu!.cast(b, b, 4, DTYPE.float32, 3 as DTypeCode)).toThrow(/unknown dtype/);
      expect(() => gpu!.addN(b, [], 4)).toThrow(/at least one input/);
      expect(() => (gpu!.addN as (...a: unknown[]) => void)(b, b, 4)).toThrow(/array of buffer ids/);
      expect(() => (gpu!.unary as (...a: unknown[]) => void)(UNARY.Exp, b, b)).toThrow(/expected 5 arguments/);
    });

    it.skipIf(!cudaReady)("mixed host / cuda buffers are refused, naming both devices (skipped without a CUDA device)", () => {
      const h = put(randF(4));
      const c = put(randF(4), WHERE.cuda);
      const out = alloc(4);
      expect(() => gpu!.binary(BINARY.Add, h, c, out, [4], [1], [1], DTYPE.float32)).toThrow(/different devices \(host and cuda\)/);
      expect(() => gpu!.unary(UNARY.Exp, c, out, 4, 0)).toThrow(/different devices/);
    });
  });
});
