// gpu.adamW on host buffers (the CPU reference the CUDA kernel is checked against on a GPU)
// against core's AdamWUpdate op: bit-identical to its cpu kernel and to the tfjs composite, with
// and without weight decay, in place (outputs aliasing inputs), n = 0; and argument errors.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { afterAll, describe, expect, it } from "vitest";
import { addon, isAvailable, loadError } from "../../src/index.js";
import { type GpuAddon } from "../../src/cuda/addon.js";
import { hostBuffers, onTfjsCpu } from "./host_buffers.js";
import { adamWUpdate, adamWUpdateComposite, type AdamWUpdateAttrs } from "@dilemma/core";
import { lcg } from "../random.js";

const gpu = (isAvailable() ? addon()?.gpu : undefined) as GpuAddon | undefined;
const ready = typeof gpu?.adamW === "function" && typeof gpu?.alloc === "function";
if (!ready) console.warn(`[cuda tests] gpu.adamW unavailable, skipped: ${loadError() ?? "not in this addon"}`);

const rnd = lcg(31337);
// signed values over six decades, with exact zeros
const vals = (n: number, scale: number, nonNeg = false) =>
  Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : scale * 10 ** (6 * rnd() - 4) * (nonNeg || rnd() < 0.5 ? 1 : -1)));

const { put, alloc, getF: get, freeAll } = hostBuffers(() => gpu!);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function attrsAt(t: number, weightDecay: number): AdamWUpdateAttrs {
  const lr = 3e-4, beta1 = 0.9, beta2 = 0.95;
  return { lr, beta1, beta2, eps: 1e-8, weightDecay, stepSize: lr / (1 - beta1 ** t), sqrtBc2: Math.sqrt(1 - beta2 ** t) };
}
function call(a: AdamWUpdateAttrs, ids: number[], n: number): void {
  gpu!.adamW(ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], n, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.stepSize, a.sqrtBc2);
}

describe.skipIf(!ready)("gpu.adamW (host) vs core's AdamWUpdate", () => {
  onTfjsCpu(freeAll);

  for (const wd of [0, 0.05]) {
    it(`bit-identical to the cpu kernel and the composite (weightDecay ${wd})`, () => {
      for (const [n, t] of [[1, 1], [5, 2], [4096, 10], [1003, 1000], [0, 1]]) {
        const p = vals(n, 1), g = vals(n, 0.1), m = vals(n, 0.01), v = vals(n, 1e-4, true);
        const a = attrsAt(t, wd);
        const ids = [put(p), put(g), put(m), put(v), alloc(n), alloc(n), alloc(n)];
        call(a, ids, n);
        const got = [get(ids[4], n), get(ids[5], n), get(ids[6], n)];
        const want = tf.tidy(() => {
          const ts = [p, g, m, v].map((d) => tf.tensor1d(d));
          const k = adamWUpdate(ts[0], ts[1], ts[2], ts[3], a).map((x) => x.dataSync() as Float32Array);
          const c = adamWUpdateComposite(ts[0], ts[1], ts[2], ts[3], a).map((x) => x.dataSync() as Float32Array);
          return [k, c];
        });
        for (let j = 0; j < 3; j++) {
          expect(bits(got[j]), `output ${j} n=${n} t=${t} vs kernel`).toEqual(bits(want[0][j]));
          expect(bits(got[j]), `output ${j} n=${n} t=${t} vs composite`).toEqual(bits(want[1][j]));
        }
      }
    });
  }

  it("in place: outputs may be the input buffers", () => {
    const n = 257;
    const p = vals(n, 1), g = vals(n, 0.1), m = vals(n, 0.01), v = vals(n, 1e-4, true);
    const a = attrsAt(3, 0.1);
    const sep = [put(p), put(g), put(m), put(v), alloc(n), alloc(n), alloc(n)];
    call(a, sep, n);
    const ip = put(p), ig = put(g), im = put(m), iv = put(v);
    call(a, [ip, ig, im, iv, ip, im, iv], n);
    expect(bits(get(ip, n))).toEqual(bits(get(sep[4], n)));
    expect(bits(get(im, n))).toEqual(bits(get(sep[5], n)));
    expect(bits(get(iv, n))).toEqual(bits(get(sep[6], n)));
  });

  it("argument errors", () => {
    const big = alloc(8), small = alloc(3);
    const a = attrsAt(1, 0);
    expect(() => call(a, [big, big, big, small, big, big, big], 4)).toThrow(/adamW v.*needs 16/);
    expect(() => call(a, [big, big, big, big, big, big, small], 4)).toThrow(/adamW vOut/);
    expect(() => call(a, [big, 777777, big, big, big, big, big], 4)).toThrow(/adamW g.*not a live buffer/);
    expect(() => call(a, [big, big, big, big, big, big, big], -2)).toThrow(/negative/);
    expect(() => (gpu!.adamW as (...x: unknown[]) => void)(big, big, big, big, big, big, big, 4, 0.1)).toThrow(/15 arguments/);
  });
});

describe.skipIf(!ready || typeof gpu?.adamWMulti !== "function")("gpu.adamWMulti (host): N parameters in one call", () => {
  afterAll(() => freeAll());
  const a = attrsAt(4, 0);
  const multi = (ids: number[], sizes: number[], wd: number[]) =>
    gpu!.adamWMulti(Float64Array.from(ids), Float64Array.from(sizes), Float64Array.from(wd), a.lr, a.beta1, a.beta2, a.eps, a.stepSize, a.sqrtBc2);

  it("equals gpu.adamW tensor by tensor, bit for bit (per-tensor decay, an empty tensor without buffers, in place)", () => {
    const sizes = [257, 1, 0, 4096, 33], wds = [0.05, 0, 0.05, 0.1, 0];
    const ins = sizes.map((n) => [vals(n, 1), vals(n, 0.1), vals(n, 0.01), vals(n, 1e-4, true)]);
    const ids: number[] = [];
    ins.forEach((arrs, k) => {
      const n = sizes[k];
      if (n === 0) ids.push(0, 0, 0, 0, 0, 0, 0);
      else if (k === 3) { const io = arrs.map((d) => put(d)); ids.push(...io, io[0], io[2], io[3]); } // in place
      else ids.push(...arrs.map((d) => put(d)), alloc(n), alloc(n), alloc(n));
    });
    multi(ids, sizes, wds);
    ins.forEach((arrs, k) => {
      const n = sizes[k];
      if (n === 0) return;
      const one = [...arrs.map((d) => put(d)), alloc(n), alloc(n), alloc(n)];
      call({ ...a, weightDecay: wds[k] }, one, n);
      for (let j = 0; j < 3; j++) expect(bits(get(ids[7 * k + 4 + j], n)), `tensor ${k} output ${j}`).toEqual(bits(get(one[4 + j], n)));
    });
  });

  it("checks every argument before writing anything", () => {
    const n = 8, big = alloc(n), small = alloc(3);
    const out = put(new Float32Array(n).fill(-777));
    const first = [big, big, big, big, out, out, out];
    expect(() => multi([...first, big, big, big, small, big, big, big], [n, 4], [0, 0])).toThrow(/adamWMulti tensor 1 v: buffer has 12 bytes, the kernel needs 16/);
    expect(() => multi([...first, big, 777777, big, big, big, big, big], [n, 4], [0, 0])).toThrow(/adamWMulti tensor 1 g: buffer id 777777 is not a live buffer/);
    expect(() => multi([...first, big, 0, big, big, big, big, big], [n, 4], [0, 0])).toThrow(/tensor 1 g: buffer id 0/);
    expect(() => multi([...first, big, 1.5, big, big, big, big, big], [n, 4], [0, 0])).toThrow(/buffer id 1.5 is not a live buffer/);
    expect(Array.from(get(out, n))).toEqual(new Array(n).fill(-777)); // the first tensor was not written
    expect(() => multi(first, [-1], [0])).toThrow(/tensor 0: element count -1 is not a non-negative integer/);
    expect(() => multi(first, [2.5], [0])).toThrow(/element count 2.5/);
    expect(() => multi(first, [n, n], [0, 0])).toThrow(/2 sizes need 14 ids and 2 weight decays, got 7 and 2/);
    expect(() => multi(first, [n], [0, 0])).toThrow(/1 sizes need 7 ids and 1 weight decays, got 7 and 2/);
    const call9 = gpu!.adamWMulti as (...x: unknown[]) => void;
    expect(() => call9(first, Float64Array.of(n), Float64Array.of(0), 1, 0.9, 0.999, 1e-8, 1, 1)).toThrow(/adamWMulti ids: argument 0 must be a Float64Array/);
    expect(() => call9(Float64Array.from(first), Float64Array.of(n))).toThrow(/expected 9 arguments/);
    expect(() => multi([], [], [])).not.toThrow();
  });
});
