// gpu.attention / attentionGrad / mlp / mlpGrad on host buffers (the reference the CUDA path is
// checked against on a GPU, scripts/check/families/fused.ts) vs core's cpu kernels (plain loops, double
// sums); argument checks. Core's fused-op suites also run on the whole cuda backend over the
// host device (project core-on-cuda), comparing its kernels and gradients with the composites.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { afterEach, describe, expect, it } from "vitest";
import { FUSED_ATTENTION, FUSED_ATTENTION_GRAD, FUSED_MLP, FUSED_MLP_GRAD } from "@dilemma/core";
import { addon, addonLoadError as loadError } from "../../src/addon.js";
import { hostBuffers } from "./host_buffers.js";
import { seededRand } from "../random.js";

const gpu = addon()?.gpu;
const ready = typeof gpu?.attention === "function";
if (!ready) console.warn(`[cuda tests] gpu.attention unavailable, skipped: ${loadError() ?? "not in this addon"}`);
const buf = hostBuffers(() => gpu!);

const rand = seededRand(99);

/** Core's cpu kernel `name` on plain arrays. */
async function cpuKernel(name: string, inputs: Record<string, [Float32Array, number[]]>, attrs: tf.NamedAttrMap = {}): Promise<Float32Array[]> {
  await tf.setBackend("cpu");
  const ts: tf.NamedTensorMap = {};
  for (const [k, [v, s]] of Object.entries(inputs)) ts[k] = tf.tensor(v, s);
  const outs = tf.engine().runKernel(name, ts, attrs) as unknown as tf.Tensor[];
  const vals = outs.map((o) => o.dataSync() as Float32Array);
  tf.dispose([...Object.values(ts), ...outs]);
  return vals;
}

function close(ref: Float32Array, got: Float32Array, what: string, rtol = 5e-5, atol = 1e-5): void {
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(got[i] - ref[i]) <= atol + rtol * scale)) expect.fail(`${what}[${i}]: cpu ${ref[i]} vs host ${got[i]}`);
  }
}

describe.skipIf(!ready)("gpu fused ops (host device)", () => {
  afterEach(() => buf.freeAll());

  it.each([[2, 17, 24, 3], [3, 9, 16, 2]])("attention and attentionGrad, B=%i N=%i D=%i H=%i", async (B, N, D, H) => {
    const R = B * N;
    const x = rand(R * D, 2), qkvW = rand(3 * D * D, 0.3), qkvB = rand(3 * D, 0.2), projW = rand(D * D, 0.3), projB = rand(D, 0.2);
    const ref = await cpuKernel(FUSED_ATTENTION, { x: [x, [B, N, D]], qkvW: [qkvW, [3 * D, D]], qkvB: [qkvB, [3 * D]], projW: [projW, [D, D]], projB: [projB, [D]] }, { numHeads: H });
    const ins = [x, qkvW, qkvB, projW, projB].map((a) => buf.put(a));
    const lens = [R * D, R * 3 * D, B * H * N * N, R * D];
    const outs = lens.map((n) => buf.alloc(n));
    gpu!.attention(ins[0], ins[1], ins[2], ins[3], ins[4], outs[0], outs[1], outs[2], outs[3], B, N, D, H);
    ["out", "qkv", "probs", "ctx"].forEach((n, i) => close(ref[i], buf.getF(outs[i], lens[i]), n));

    const dy = rand(R * D);
    const gRef = await cpuKernel(FUSED_ATTENTION_GRAD, {
      dy: [dy, [B, N, D]], x: [x, [B, N, D]], qkvW: [qkvW, [3 * D, D]], projW: [projW, [D, D]],
      qkv: [ref[1], [B, N, 3 * D]], probs: [ref[2], [B, H, N, N]], ctx: [ref[3], [B, N, D]],
    }, { numHeads: H });
    const gIns = [dy, x, qkvW, projW, ref[1], ref[2], ref[3]].map((a) => buf.put(a));
    const gLens = [R * D, 3 * D * D, 3 * D, D * D, D];
    const g = gLens.map((n) => buf.alloc(n));
    gpu!.attentionGrad(gIns[0], gIns[1], gIns[2], gIns[3], gIns[4], gIns[5], gIns[6], g[0], g[1], g[2], g[3], g[4], B, N, D, H);
    ["dx", "dQkvW", "dQkvB", "dProjW", "dProjB"].forEach((n, i) => close(gRef[i], buf.getF(g[i], gLens[i]), n));
  });

  it("mlp and mlpGrad", async () => {
    const [R, D, Hd] = [70, 24, 40];
    const x = rand(R * D, 2), fc1W = rand(Hd * D, 0.3), fc1B = rand(Hd, 0.3), fc2W = rand(D * Hd, 0.2), fc2B = rand(D, 0.2);
    const ref = await cpuKernel(FUSED_MLP, { x: [x, [R, D]], fc1W: [fc1W, [Hd, D]], fc1B: [fc1B, [Hd]], fc2W: [fc2W, [D, Hd]], fc2B: [fc2B, [D]] });
    const ins = [x, fc1W, fc1B, fc2W, fc2B].map((a) => buf.put(a));
    const lens = [R * D, R * Hd, R * Hd];
    const outs = lens.map((n) => buf.alloc(n));
    gpu!.mlp(ins[0], ins[1], ins[2], ins[3], ins[4], outs[0], outs[1], outs[2], R, D, Hd);
    ["out", "pre", "act"].forEach((n, i) => close(ref[i], buf.getF(outs[i], lens[i]), n));
    const dy = rand(R * D);
    const gRef = await cpuKernel(FUSED_MLP_GRAD, { dy: [dy, [R, D]], x: [x, [R, D]], fc1W: [fc1W, [Hd, D]], fc2W: [fc2W, [D, Hd]], pre: [ref[1], [R, Hd]], act: [ref[2], [R, Hd]] });
    const gIns = [dy, x, fc1W, fc2W, ref[1], ref[2]].map((a) => buf.put(a));
    const gLens = [R * D, Hd * D, Hd, D * Hd, D];
    const g = gLens.map((n) => buf.alloc(n));
    gpu!.mlpGrad(gIns[0], gIns[1], gIns[2], gIns[3], gIns[4], gIns[5], g[0], g[1], g[2], g[3], g[4], R, D, Hd);
    ["dx", "dFc1W", "dFc1B", "dFc2W", "dFc2B"].forEach((n, i) => close(gRef[i], buf.getF(g[i], gLens[i]), n));
  });

  it("rejects bad sizes, short buffers and outputs aliasing inputs, naming the call", () => {
    const a = buf.alloc(4096);
    const ids = Array.from({ length: 9 }, () => buf.alloc(4096));
    expect(() => gpu!.attention(ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], 1, 2, 6, 4)).toThrow(/gpu.attention: H must divide D/);
    expect(() => gpu!.attention(ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], 1, 0, 8, 2)).toThrow(/gpu.attention: sizes must be integers in \[1, 2\^31\)/);
    expect(() => gpu!.attention(ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], 1, 2, 64, 2)).toThrow(/gpu.attention qkvW/);
    expect(() => gpu!.mlp(a, a, a, a, a, a, ids[1], ids[2], 4, 4, 8)).toThrow(/gpu.mlp: outputs must be distinct buffers/);
  });
});
