// gpu.ema on host buffers (the CPU reference the CUDA kernel is checked against on a GPU) and the
// cuda backend's EmaUpdate kernel: both bit-identical to core's EmaUpdate composite.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import { emaUpdateComposite, emaUpdateOp } from "@dilemma/core";
import { addon, addonLoadError as loadError } from "../../src/addon.js";
import { WHERE } from "../../src/cuda/addon.js";
import { CUDA_BACKEND, registerCudaBackend } from "../../src/cuda/index.js";

const gpu = addon()?.gpu;
const ready = typeof gpu?.ema === "function";
if (!ready) console.warn(`[cuda tests] gpu.ema unavailable, skipped: ${loadError() ?? "not in this addon"}`);

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 10 ** ((i % 9) - 4);
  }
  return out;
}
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe.skipIf(!ready)("gpu.ema (host device)", () => {
  it("equals core's composite bit for bit, including in place (out = target)", async () => {
    await tf.setBackend("cpu");
    for (const [n, m] of [[1, 0.99], [7, 0.996], [1024, 0.9999], [4099, 0.5]] as const) {
      const t = values(n, n), s = values(n, n + 1);
      const ref = emaUpdateComposite(tf.tensor(t), tf.tensor(s), m).dataSync() as Float32Array;
      const [tb, sb, ob] = [0, 1, 2].map(() => gpu!.alloc(WHERE.host, n * 4));
      gpu!.upload(tb, t);
      gpu!.upload(sb, s);
      gpu!.ema(tb, sb, ob, n, m);
      const out = new Float32Array(n);
      gpu!.download(ob, out);
      expect(bits(out), `n=${n}`).toEqual(bits(ref));
      gpu!.ema(tb, sb, tb, n, m);
      gpu!.download(tb, out);
      expect(bits(out), `in place, n=${n}`).toEqual(bits(ref));
      for (const b of [tb, sb, ob]) gpu!.free(b);
    }
  });

  it("rejects bad arguments with a message naming them", () => {
    const a = gpu!.alloc(WHERE.host, 16);
    expect(() => gpu!.ema(a, a, a, 8, 0.9)).toThrow(/ema target.*has 16 bytes, the kernel needs 32/);
    expect(() => gpu!.ema(a, 0, a, 4, 0.9)).toThrow(/ema source/);
    expect(() => gpu!.ema(a, a, a, -1, 0.9)).toThrow(/negative/);
    gpu!.free(a);
  });

  it("emaMulti: N parameters in one call, each bit-identical to gpu.ema (an equal target stays equal, an empty tensor without buffers)", () => {
    const sizes = [7, 0, 4099, 1, 300];
    const ts = sizes.map((n, k) => values(n, 40 + k));
    const ss = sizes.map((n, k) => (k === 4 ? ts[k] : values(n, 50 + k)));
    const live: number[] = [];
    const put = (d: Float32Array) => {
      const id = gpu!.alloc(WHERE.host, Math.max(4, d.length * 4));
      if (d.length > 0) gpu!.upload(id, d);
      live.push(id);
      return id;
    };
    const ids = sizes.flatMap((n, k) => (n === 0 ? [0, 0, 0] : [put(ts[k]), put(ss[k]), put(new Float32Array(n).fill(-777))]));
    gpu!.emaMulti(Float64Array.from(ids), Float64Array.from(sizes), 0.996);
    sizes.forEach((n, k) => {
      if (n === 0) return;
      const one = [put(ts[k]), put(ss[k]), put(new Float32Array(n))];
      gpu!.ema(one[0], one[1], one[2], n, 0.996);
      const [got, want] = [new Float32Array(n), new Float32Array(n)];
      gpu!.download(ids[3 * k + 2], got);
      gpu!.download(one[2], want);
      expect(bits(got), `tensor ${k}`).toEqual(bits(want));
      if (k === 4) expect(bits(got), "equal target").toEqual(bits(ts[k]));
    });
    const small = put(new Float32Array(2));
    expect(() => gpu!.emaMulti(Float64Array.from([ids[0], ids[1], ids[2], small, small, small]), Float64Array.of(7, 3), 0.9))
      .toThrow(/emaMulti tensor 1 target: buffer has 8 bytes, the kernel needs 12/);
    expect(() => gpu!.emaMulti(Float64Array.from(ids), Float64Array.of(7), 0.9)).toThrow(/1 sizes need 3 ids, got 15/);
    for (const id of live) gpu!.free(id);
  });

  it("runs as the cuda backend's EmaUpdate kernel (no fallback)", async () => {
    expect(registerCudaBackend({ device: "host" })).toBe(true);
    await tf.setBackend(CUDA_BACKEND);
    expect(tf.getKernel("EmaUpdate", CUDA_BACKEND)).toBeDefined();
    const t = values(300, 3), s = values(300, 4);
    const out = emaUpdateOp(tf.tensor(t, [3, 100]), tf.tensor(s, [3, 100]), 0.996);
    expect(out.shape).toEqual([3, 100]);
    const got = out.dataSync() as Float32Array;
    await tf.setBackend("cpu");
    const ref = emaUpdateComposite(tf.tensor(t, [3, 100]), tf.tensor(s, [3, 100]), 0.996).dataSync() as Float32Array;
    expect(bits(got)).toEqual(bits(ref));
  });
});
