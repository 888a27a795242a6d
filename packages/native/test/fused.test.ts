// The native FusedAttention / FusedMlp kernels (csrc/engine/attention.cc, mlp.cc) and their
// gradients against core's cpu kernels (plain loops, double sums), on ViT-like shapes incl.
// row counts that are not a multiple of the 64-row GEMM block; batch invariance; determinism.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { FUSED_ATTENTION, FUSED_ATTENTION_GRAD, FUSED_MLP, FUSED_MLP_GRAD } from "@dilemma/core";
import { addon, isAvailable, loadError } from "../src/index.js";
import { seededRand } from "./random.js";

const available = isAvailable();
if (!available) console.warn(`[native tests] fused kernel tests skipped: ${loadError()}`);

const rand = seededRand(777);

/** Runs kernel `name` on `backend` and returns its outputs' values. */
async function run(backend: string, name: string, inputs: Record<string, [Float32Array, number[]]>, attrs: tf.NamedAttrMap = {}): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const ts: tf.NamedTensorMap = {};
  for (const [k, [v, s]] of Object.entries(inputs)) ts[k] = tf.tensor(v, s);
  const outs = tf.engine().runKernel(name, ts, attrs) as unknown as tf.Tensor[];
  const vals = outs.map((o) => o.dataSync() as Float32Array);
  tf.dispose([...Object.values(ts), ...outs]);
  return vals;
}

function close(ref: Float32Array, got: Float32Array, what: string, rtol = 2e-5, atol = 2e-6): void {
  expect(got.length, what).toBe(ref.length);
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(got[i] - ref[i]) <= atol + rtol * scale)) expect.fail(`${what}[${i}]: cpu ${ref[i]} vs native ${got[i]} (max |ref| ${scale})`);
  }
}

// [B, N, D, H]: tiny32's sparse (17) and dense (65) sequences, a row count below one GEMM
// block, one with a padded tail block.
const ATTENTION_SHAPES = [[4, 17, 192, 3], [2, 65, 48, 2], [1, 9, 16, 4], [5, 13, 32, 2]];

describe.skipIf(!available)("native fused kernels vs core's cpu kernels", () => {
  afterAll(async () => {
    await tf.setBackend("native");
  });

  it.each(ATTENTION_SHAPES)("FusedAttention and its gradient, B=%i N=%i D=%i H=%i", async (B, N, D, H) => {
    const x = rand(B * N * D, 2), qkvW = rand(3 * D * D, 0.3), qkvB = rand(3 * D, 0.2), projW = rand(D * D, 0.3), projB = rand(D, 0.2);
    const fwdIn = { x: [x, [B, N, D]], qkvW: [qkvW, [3 * D, D]], qkvB: [qkvB, [3 * D]], projW: [projW, [D, D]], projB: [projB, [D]] } as Record<string, [Float32Array, number[]]>;
    const ref = await run("cpu", FUSED_ATTENTION, fwdIn, { numHeads: H });
    const got = await run("native", FUSED_ATTENTION, fwdIn, { numHeads: H });
    ["out", "qkv", "probs", "ctx"].forEach((n, i) => close(ref[i], got[i], n));
    const dy = rand(B * N * D);
    const gradIn = (o: Float32Array[]) => ({
      dy: [dy, [B, N, D]], x: [x, [B, N, D]], qkvW: [qkvW, [3 * D, D]], projW: [projW, [D, D]],
      qkv: [o[1], [B, N, 3 * D]], probs: [o[2], [B, H, N, N]], ctx: [o[3], [B, N, D]],
    }) as Record<string, [Float32Array, number[]]>;
    const gRef = await run("cpu", FUSED_ATTENTION_GRAD, gradIn(ref), { numHeads: H });
    const gGot = await run("native", FUSED_ATTENTION_GRAD, gradIn(ref), { numHeads: H });
    ["dx", "dQkvW", "dQkvB", "dProjW", "dProjB"].forEach((n, i) => close(gRef[i], gGot[i], n, 5e-5, 5e-6));
    // Deterministic: the same call gives the same bits.
    const again = await run("native", FUSED_ATTENTION_GRAD, gradIn(ref), { numHeads: H });
    again.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(gGot[i])));
  });

  it("FusedAttention outputs of the first samples do not depend on how many samples follow (as 2-D matMul)", async () => {
    const [B, N, D, H] = [5, 17, 64, 2];
    const x = rand(B * N * D, 2), qkvW = rand(3 * D * D, 0.3), qkvB = rand(3 * D), projW = rand(D * D, 0.3), projB = rand(D);
    const w = { qkvW: [qkvW, [3 * D, D]], qkvB: [qkvB, [3 * D]], projW: [projW, [D, D]], projB: [projB, [D]] } as Record<string, [Float32Array, number[]]>;
    const all = await run("native", FUSED_ATTENTION, { x: [x, [B, N, D]], ...w }, { numHeads: H });
    for (const b of [1, 2]) {
      const part = await run("native", FUSED_ATTENTION, { x: [x.slice(0, b * N * D), [b, N, D]], ...w }, { numHeads: H });
      expect(Array.from(part[0])).toEqual(Array.from(all[0].subarray(0, b * N * D)));
    }
  });

  it.each([[3, 17, 192, 768], [70, 1, 24, 40], [1, 5, 16, 64]])("FusedMlp and its gradient, [%i, %i, %i] hidden %i", async (B, N, D, Hd) => {
    const x = rand(B * N * D, 2), fc1W = rand(Hd * D, 0.3), fc1B = rand(Hd, 0.3), fc2W = rand(D * Hd, 0.2), fc2B = rand(D, 0.2);
    const fwdIn = { x: [x, [B, N, D]], fc1W: [fc1W, [Hd, D]], fc1B: [fc1B, [Hd]], fc2W: [fc2W, [D, Hd]], fc2B: [fc2B, [D]] } as Record<string, [Float32Array, number[]]>;
    const ref = await run("cpu", FUSED_MLP, fwdIn);
    const got = await run("native", FUSED_MLP, fwdIn);
    // act uses the engine's float erf (~1e-7), hence the looser atol.
    ["out", "pre", "act"].forEach((n, i) => close(ref[i], got[i], n, 2e-5, 1e-5));
    const dy = rand(B * N * D);
    const gradIn = {
      dy: [dy, [B, N, D]], x: [x, [B, N, D]], fc1W: [fc1W, [Hd, D]], fc2W: [fc2W, [D, Hd]],
      pre: [ref[1], [B, N, Hd]], act: [ref[2], [B, N, Hd]],
    } as Record<string, [Float32Array, number[]]>;
    const gRef = await run("cpu", FUSED_MLP_GRAD, gradIn);
    const gGot = await run("native", FUSED_MLP_GRAD, gradIn);
    ["dx", "dFc1W", "dFc1B", "dFc2W", "dFc2B"].forEach((n, i) => close(gRef[i], gGot[i], n, 5e-5, 1e-5));
  });

  it("rejects bad sizes with a RangeError naming the call", () => {
    const a = addon()!;
    const f = new Float32Array(16);
    expect(() => a.attention(f, f, f, f, f, f, f, f, f, 1, 2, 6, 4)).toThrow(/attention: B, N, D, H must be positive with H dividing D/);
    expect(() => a.mlp(f, f, f, f, f, f, f, f, 4, 4, 8)).toThrow(/mlp fc1W: Float32Array has 16 elements, kernel needs 32/);
  });
});
