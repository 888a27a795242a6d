// gpu.dilemmaEmbed / gpu.dilemmaEmbedGrad / gpu.dilemmaCheck (src/cuda/addon.ts) on buffer ids vs
// @dilemma/core's DilemmaEmbed ops (tfjs cpu) and plain-loop references: on host buffers
// everywhere, on cuda buffers too where this machine has a GPU (bitwise: the backward is the
// deterministic kernel). Index errors: thrown at the call (host) / by dilemmaCheck (cuda).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { dilemmaEmbed, dilemmaEmbedGrad, sampleDilemma } from "@dilemma/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { addon, addonLoadError } from "../../src/addon.js";
import { WHERE, type GpuAddon, type Where } from "../../src/cuda/addon.js";
import { refBackward, refForward } from "../dilemma/util.js";

const gpu: GpuAddon | undefined = addon()?.gpu;
const available = typeof gpu?.alloc === "function" && typeof gpu?.dilemmaEmbed === "function";
if (!available) console.warn(`[cuda dilemma] SKIPPED: addon or its gpu.dilemmaEmbed unavailable (${addonLoadError() ?? "gpu runtime not built"})`);
const rt = available ? gpu!.runtimeInfo() : null;
const cudaReady = !!rt && rt.compiled && rt.devices > 0;
const devices: [string, Where][] = [["host", WHERE.host], ...(cudaReady ? [["cuda", WHERE.cuda] as [string, Where]] : [])];

function randomFloats(n: number, s: number): Float32Array {
  const out = new Float32Array(n);
  let x = (s * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && a[i] !== b[i]) return i;
  return -1;
}

let live: number[] = [];
function upload(where: Where, data: Float32Array | Int32Array): number {
  const id = gpu!.alloc(where, data.byteLength);
  live.push(id);
  if (data.byteLength > 0) gpu!.upload(id, data);
  return id;
}
const poisoned = (where: Where, n: number, v = NaN) => upload(where, new Float32Array(n).fill(v));
function download(id: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (n > 0) gpu!.download(id, out);
  return out;
}

interface Case { B: number; L: number; K: number; D: number; p: number }
const cases: Case[] = [
  { B: 1, L: 1, K: 1, D: 1, p: 0.5 },
  { B: 2, L: 5, K: 5, D: 3, p: 0.5 },   // dense, odd L, D % 4 != 0 (scalar CUDA path)
  { B: 3, L: 7, K: 2, D: 5, p: 1 },
  { B: 4, L: 16, K: 4, D: 8, p: 0 },    // D % 4 == 0 (float4 CUDA path)
  { B: 8, L: 49, K: 12, D: 64, p: 0.2 },
  { B: 64, L: 196, K: 49, D: 192, p: 0.2 }, // dPos sums > one 2048-row chunk of the CUDA kernel
];

describe.skipIf(!available)("gpu.dilemmaEmbed / dilemmaEmbedGrad", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });
  afterEach(() => {
    for (const id of live) gpu!.free(id);
    live = [];
  });

  for (const [dev, where] of devices) {
    for (const { B, L, K, D, p } of cases) {
      it(`${dev}: forward and backward equal core's ops bitwise at B=${B} L=${L} K=${K} D=${D}`, () => {
        const s = sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - K / L, dilemmaProb: p, rng: { seed: 11, counter: B + L } });
        expect(s.numKept).toBe(K);
        const tokens = randomFloats(B * L * D, 1), pos = randomFloats(L * D, 2), dy = randomFloats(B * K * D, 3);
        const ids = {
          tokens: upload(where, tokens), pos: upload(where, pos), dy: upload(where, dy),
          realPos: upload(where, s.realPos), inputPos: upload(where, s.inputPos),
          out: poisoned(where, B * K * D), dTokens: poisoned(where, B * L * D), dPos: poisoned(where, L * D),
        };
        gpu!.dilemmaEmbed(ids.tokens, ids.pos, ids.realPos, ids.inputPos, B, L, K, D, ids.out);
        gpu!.dilemmaEmbedGrad(ids.dy, ids.realPos, ids.inputPos, B, L, K, D, ids.dTokens, ids.dPos);
        gpu!.dilemmaCheck();
        const out = download(ids.out, B * K * D);
        const dTokens = download(ids.dTokens, B * L * D), dPos = download(ids.dPos, L * D);

        const useCore = B * L * D <= 1 << 20;
        const ref = useCore
          ? tf.tidy(() => dilemmaEmbed(tf.tensor3d(tokens, [B, L, D]), tf.tensor2d(pos, [L, D]),
            tf.tensor2d(s.realPos, [B, K], "int32"), tf.tensor2d(s.inputPos, [B, K], "int32")).dataSync() as Float32Array)
          : refForward(tokens, pos, s.realPos, s.inputPos, B, L, K, D);
        expect(firstDiff(out, ref)).toBe(-1);
        let refTok: Float32Array, refPos: Float32Array;
        if (useCore) {
          const g = dilemmaEmbedGrad(tf.tensor3d(dy, [B, K, D]), tf.tensor2d(s.realPos, [B, K], "int32"),
            tf.tensor2d(s.inputPos, [B, K], "int32"), L);
          [refTok, refPos] = g.map((t) => t.dataSync() as Float32Array);
          tf.dispose(g);
        } else {
          [refTok, refPos] = refBackward(dy, s.realPos, s.inputPos, B, L, K, D);
        }
        expect(firstDiff(dTokens, refTok)).toBe(-1);
        expect(firstDiff(dPos, refPos)).toBe(-1);  // summed in (b, i) order on both devices
      });
    }

    it(`${dev}: B = 0 / K = 0 / D = 0 write what the shapes hold (dPos zeros)`, () => {
      const [L, D] = [4, 3];
      const dPos = poisoned(where, L * D), none = upload(where, new Float32Array(0));
      const idx = upload(where, new Int32Array(0));
      gpu!.dilemmaEmbedGrad(none, idx, idx, 0, L, 2, D, none, dPos);
      gpu!.dilemmaCheck();
      expect(Array.from(download(dPos, L * D))).toEqual(new Array(L * D).fill(0));
      const dTok = poisoned(where, 2 * L * D);
      gpu!.dilemmaEmbedGrad(none, idx, idx, 2, L, 0, D, dTok, dPos);
      gpu!.dilemmaCheck();
      expect(Array.from(download(dTok, 2 * L * D))).toEqual(new Array(2 * L * D).fill(0));
      const tokens = upload(where, randomFloats(2 * L * D, 8)), pos = upload(where, randomFloats(L * D, 9));
      gpu!.dilemmaEmbed(tokens, pos, idx, idx, 2, L, 0, D, none);
      const idx4 = upload(where, new Int32Array([0, 1, 2, 3]));
      gpu!.dilemmaEmbed(none, none, idx4, idx4, 2, L, 2, 0, none);
      gpu!.dilemmaCheck();
    });
  }

  it("host: backward sums duplicate realPos rows (a true gradient; the sampler never repeats)", () => {
    const [B, L, K, D] = [1, 4, 3, 2];
    const dTokens = poisoned(WHERE.host, B * L * D), dPos = poisoned(WHERE.host, L * D);
    gpu!.dilemmaEmbedGrad(upload(WHERE.host, new Float32Array([1, 2, 10, 20, 100, 200])),
      upload(WHERE.host, new Int32Array([2, 0, 2])), upload(WHERE.host, new Int32Array([1, 1, 3])), B, L, K, D, dTokens, dPos);
    expect(Array.from(download(dTokens, B * L * D))).toEqual([10, 20, 0, 0, 101, 202, 0, 0]);
    expect(Array.from(download(dPos, L * D))).toEqual([0, 0, 11, 22, 0, 0, 100, 200]);
  });

  it("host: out-of-range indices throw naming realPos / inputPos and the index, writing nothing", () => {
    const h = WHERE.host;
    const [B, L, K, D] = [2, 9, 3, 4];
    const tokens = upload(h, randomFloats(B * L * D, 4)), pos = upload(h, randomFloats(L * D, 5));
    const ok = upload(h, new Int32Array([0, 1, 2, 3, 4, 5]));
    const out = poisoned(h, B * K * D, 7);
    expect(() => gpu!.dilemmaEmbed(tokens, pos, upload(h, new Int32Array([0, 9, 2, 3, 4, 5])), ok, B, L, K, D, out))
      .toThrow("DilemmaEmbed: realPos[0,1]=9 out of [0, 9)");
    expect(() => gpu!.dilemmaEmbed(tokens, pos, ok, upload(h, new Int32Array([0, 1, 2, 3, 4, -1])), B, L, K, D, out))
      .toThrow("DilemmaEmbed: inputPos[1,2]=-1 out of [0, 9)");
    expect(download(out, B * K * D).every((v) => v === 7)).toBe(true);
    const dTokens = poisoned(h, B * L * D, 7), dPos = poisoned(h, L * D, 7);
    const dy = upload(h, new Float32Array(B * K * D));
    expect(() => gpu!.dilemmaEmbedGrad(dy, ok, upload(h, new Int32Array([0, 1, 2, 3, 40, 5])), B, L, K, D, dTokens, dPos))
      .toThrow("DilemmaEmbedGrad: inputPos[1,1]=40 out of [0, 9)");
    expect(() => gpu!.dilemmaEmbedGrad(dy, upload(h, new Int32Array([0, 1, 2, -3, 4, 5])), ok, B, L, K, D, dTokens, dPos))
      .toThrow("DilemmaEmbedGrad: realPos[1,0]=-3 out of [0, 9)");
    expect(download(dTokens, B * L * D).every((v) => v === 7) && download(dPos, L * D).every((v) => v === 7)).toBe(true);
    gpu!.dilemmaCheck();  // host errors were thrown at the call: nothing pending
  });

  it.skipIf(!cudaReady)("cuda: bad indices and repeated realPos are reported by dilemmaCheck, which then resets", () => {
    const c = WHERE.cuda;
    const [B, L, K, D] = [2, 9, 3, 4];
    const tokens = upload(c, randomFloats(B * L * D, 4)), pos = upload(c, randomFloats(L * D, 5));
    const ok = upload(c, new Int32Array([0, 1, 2, 3, 4, 5]));
    const out = poisoned(c, B * K * D);
    gpu!.dilemmaEmbed(tokens, pos, upload(c, new Int32Array([0, 9, 2, 3, 4, 5])), ok, B, L, K, D, out);
    expect(() => gpu!.dilemmaCheck()).toThrow(/DilemmaEmbed \(cuda\): a realPos or inputPos index was out of \[0, L\)/);
    gpu!.dilemmaCheck();  // reset
    const dy = upload(c, randomFloats(B * K * D, 6));
    const dTokens = poisoned(c, B * L * D), dPos = poisoned(c, L * D);
    gpu!.dilemmaEmbedGrad(dy, ok, upload(c, new Int32Array([0, 1, 2, 3, 40, 5])), B, L, K, D, dTokens, dPos);
    expect(() => gpu!.dilemmaCheck()).toThrow(/DilemmaEmbedGrad \(cuda\): a realPos or inputPos index was out of/);
    gpu!.dilemmaEmbedGrad(dy, upload(c, new Int32Array([2, 0, 2, 3, 4, 5])), ok, B, L, K, D, dTokens, dPos);
    expect(() => gpu!.dilemmaCheck()).toThrow(/realPos repeats within a batch row/);
    gpu!.dilemmaEmbed(tokens, pos, ok, ok, B, L, K, D, out);
    gpu!.dilemmaCheck();
  });

  it("rejects bad buffer ids, too-small buffers, mixed sizes and non-integer sizes", () => {
    const h = WHERE.host;
    const f8 = upload(h, new Float32Array(8)), f4 = upload(h, new Float32Array(4)), i2 = upload(h, new Int32Array(2));
    expect(() => gpu!.dilemmaEmbed(999999, f8, i2, i2, 1, 4, 2, 2, f4)).toThrow(/dilemmaEmbed tokens \[B,L,D\]: argument 0 \(buffer id 999999\) is not a live buffer/);
    expect(() => gpu!.dilemmaEmbed(f4, f8, i2, i2, 1, 4, 2, 2, f4)).toThrow(/dilemmaEmbed tokens \[B,L,D\]: .*has 16 bytes, the kernel needs 32/);
    expect(() => gpu!.dilemmaEmbed(f8, f8, i2, i2, 1, 4, 3, 2, f4)).toThrow(/dilemmaEmbed realPos \[B,K\]: .*needs 12/);
    expect(() => gpu!.dilemmaEmbedGrad(f4, i2, i2, 1, 4, 2, 2, f8, f4)).toThrow(/dilemmaEmbedGrad dPos \[L,D\]: .*needs 32/);
    expect(() => gpu!.dilemmaEmbed(f8, f8, i2, i2, 1, 4, 2.5, 2, f4)).toThrow(/dilemmaEmbed: K must be an integer/);
    expect(() => gpu!.dilemmaEmbedGrad(f4, i2, i2, 1, -4, 2, 2, f8, f8)).toThrow(/dilemmaEmbedGrad: L must be an integer/);
  });
});
