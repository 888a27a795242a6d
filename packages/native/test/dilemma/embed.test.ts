// Native CPU DILEMMA embedding kernels vs @dilemma/core's CPU kernels (the JS reference), forward
// and backward, on several shapes; the largest (B=256 L=196 K=49 D=384) against plain-loop
// references with the same arithmetic (no tfjs copies of 77 MB tensors); bounds and size errors.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { dilemmaEmbed, dilemmaEmbedGrad, sampleDilemma } from "@dilemma/core";
import { beforeAll, describe, expect, it } from "vitest";
import { dilemmaAddon } from "../../src/dilemma/index.js";
import { dilemmaKernelsOrSkip, firstDiff, randomFloats, refBackward, refForward } from "./util.js";

const available = dilemmaKernelsOrSkip("dilemma embed");

interface Case { B: number; L: number; K: number; D: number; p: number }
const cases: Case[] = [
  { B: 1, L: 1, K: 1, D: 1, p: 0.5 },
  { B: 2, L: 5, K: 5, D: 3, p: 0.5 },     // dense, odd L: the self-mirrored middle token, D % 4 != 0
  { B: 3, L: 7, K: 2, D: 5, p: 1 },       // every token corrupted
  { B: 4, L: 16, K: 4, D: 8, p: 0 },      // no corruption
  { B: 64, L: 64, K: 16, D: 192, p: 0.2 },
  { B: 256, L: 196, K: 49, D: 384, p: 0.2 },
];

/** Values of the tensors `op` returns, everything disposed (tf.tidy would walk a returned typed array element by element). */
function readAll(op: () => tf.Tensor[]): Float32Array[] {
  const ts = tf.tidy(op);
  const vals = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return vals;
}

function positions({ B, L, K, p }: Case, step: number): { realPos: Int32Array; inputPos: Int32Array } {
  const s = sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - K / L, dilemmaProb: p, rng: { seed: 7, counter: step } });
  expect(s.numKept).toBe(K);
  return s;
}

describe.skipIf(!available)("native DILEMMA embed kernels (CPU)", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const c of cases) {
    const { B, L, K, D } = c;
    it(`forward and backward equal the JS reference at B=${B} L=${L} K=${K} D=${D}`, () => {
      const a = dilemmaAddon();
      const { realPos, inputPos } = positions(c, B + L);
      const tokens = randomFloats(B * L * D, 1);
      const pos = randomFloats(L * D, 2);
      const dy = randomFloats(B * K * D, 3);

      const out = new Float32Array(B * K * D).fill(NaN);  // poisoned: every element must be written
      a.dilemmaEmbedForward(tokens, pos, realPos, inputPos, B, L, K, D, out);
      const useCore = B * L * D <= 1 << 22;
      const ref = useCore
        ? readAll(() => [dilemmaEmbed(
          tf.tensor3d(tokens, [B, L, D]), tf.tensor2d(pos, [L, D]),
          tf.tensor2d(realPos, [B, K], "int32"), tf.tensor2d(inputPos, [B, K], "int32"),
        )])[0]
        : refForward(tokens, pos, realPos, inputPos, B, L, K, D);
      expect(firstDiff(out, ref)).toBe(-1);  // one float add per element: bitwise equal

      const dTokens = new Float32Array(B * L * D).fill(NaN);
      const dPos = new Float32Array(L * D).fill(NaN);
      a.dilemmaEmbedBackward(dy, realPos, inputPos, B, L, K, D, dTokens, dPos);
      const [refTok, refPos] = useCore
        ? readAll(() => dilemmaEmbedGrad(
          tf.tensor3d(dy, [B, K, D]), tf.tensor2d(realPos, [B, K], "int32"), tf.tensor2d(inputPos, [B, K], "int32"), L,
        ))
        : refBackward(dy, realPos, inputPos, B, L, K, D);
      expect(firstDiff(dTokens, refTok)).toBe(-1);
      // dPos sums each element over (b, i) in the same order as core: bitwise equal too.
      expect(firstDiff(dPos, refPos)).toBe(-1);
    });
  }

  it("backward sums duplicate realPos rows (not produced by the sampler, still a correct gradient)", () => {
    const [B, L, K, D] = [1, 4, 3, 2];
    const dy = new Float32Array([1, 2, 10, 20, 100, 200]);
    const dTokens = new Float32Array(B * L * D);
    const dPos = new Float32Array(L * D);
    dilemmaAddon().dilemmaEmbedBackward(dy, new Int32Array([2, 0, 2]), new Int32Array([1, 1, 3]), B, L, K, D, dTokens, dPos);
    expect(Array.from(dTokens)).toEqual([10, 20, 0, 0, 101, 202, 0, 0]);
    expect(Array.from(dPos)).toEqual([0, 0, 11, 22, 0, 0, 100, 200]);
  });

  it("rejects out-of-range indices with the op name and index, writing nothing", () => {
    const a = dilemmaAddon();
    const [B, L, K, D] = [2, 9, 3, 4];
    const tokens = randomFloats(B * L * D, 4);
    const pos = randomFloats(L * D, 5);
    const ok = new Int32Array([0, 1, 2, 3, 4, 5]);
    const out = new Float32Array(B * K * D).fill(7);
    expect(() => a.dilemmaEmbedForward(tokens, pos, new Int32Array([0, 9, 2, 3, 4, 5]), ok, B, L, K, D, out))
      .toThrow("DilemmaEmbed: realPos[0,1]=9 out of [0, 9)");
    expect(() => a.dilemmaEmbedForward(tokens, pos, ok, new Int32Array([0, 1, 2, 3, 4, -1]), B, L, K, D, out))
      .toThrow("DilemmaEmbed: inputPos[1,2]=-1 out of [0, 9)");
    expect(out.every((v) => v === 7)).toBe(true);
    const dTokens = new Float32Array(B * L * D).fill(7);
    const dPos = new Float32Array(L * D).fill(7);
    expect(() => a.dilemmaEmbedBackward(new Float32Array(B * K * D), ok, new Int32Array([0, 1, 2, 3, 40, 5]), B, L, K, D, dTokens, dPos))
      .toThrow("DilemmaEmbedGrad: inputPos[1,1]=40 out of [0, 9)");
    expect(dTokens.every((v) => v === 7) && dPos.every((v) => v === 7)).toBe(true);
  });

  it("rejects arrays whose size or type does not match the shape", () => {
    const a = dilemmaAddon();
    const idx = new Int32Array(2);
    expect(() => a.dilemmaEmbedForward(new Float32Array(7), new Float32Array(8), idx, idx, 1, 4, 2, 2, new Float32Array(4)))
      .toThrow("dilemmaEmbedForward: tokens [B,L,D] has 7 elements, the shape needs 8");
    expect(() => a.dilemmaEmbedForward(new Float32Array(8), new Float32Array(8), new Float32Array(2) as unknown as Int32Array, idx, 1, 4, 2, 2, new Float32Array(4)))
      .toThrow("dilemmaEmbedForward: realPos [B,K] must be a Int32Array");
    expect(() => a.dilemmaEmbedBackward(new Float32Array(4), idx, idx, 1, 4, 2, 2, new Float32Array(8), new Float32Array(9)))
      .toThrow("dilemmaEmbedBackward: dPos [L,D] has 9 elements, the shape needs 8");
    expect(() => a.dilemmaEmbedForward(new Float32Array(8), new Float32Array(8), idx, idx, 1, 4, 2.5, 2, new Float32Array(4)))
      .toThrow("dilemmaEmbedForward: K must be an integer");
  });
});
