import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { AdamW, decaysByDefault } from "../../src/train/adamw.js";
import { ADAMW_UPDATE, adamWUpdate } from "../../src/train/ops/adamw_update.js";
import { BatchNorm1d } from "../../src/train/batchnorm.js";
import { contrastiveLoss, teacherTempAt } from "../../src/train/index.js";
import { MLP } from "../../src/train/mlp.js";
import { clipByGlobalNorm, cosineLr, momentumAt } from "../../src/train/schedule.js";

const read = (t: tf.Tensor) => Array.from(t.dataSync());

describe("AdamW", () => {
  it("decays weights only (not biases, norms, pos_embed, cls_token)", () => {
    const params = new Map([
      ["blocks.0.attn.qkv.weight", tf.variable(tf.ones([2, 2]))],
      ["blocks.0.attn.qkv.bias", tf.variable(tf.ones([2]))],
      ["norm.weight", tf.variable(tf.ones([2]))],
      ["base_encoder.pos_embed", tf.variable(tf.ones([1, 2, 2]))],
      ["base_encoder.cls_token", tf.variable(tf.ones([1, 1, 2]))],
    ]);
    expect([...params].map(([n, p]) => decaysByDefault(n, p))).toEqual([true, false, false, false, false]);
    const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.5 });
    // zero gradients: the Adam term vanishes, only decoupled decay can move a parameter
    opt.apply(new Map([...params].map(([n, p]) => [n, tf.zerosLike(p)] as const)));
    expect(read(params.get("blocks.0.attn.qkv.weight")!)).toEqual(new Array(4).fill(Math.fround(1 - 0.1 * 0.5)));
    for (const n of ["blocks.0.attn.qkv.bias", "norm.weight", "base_encoder.pos_embed", "base_encoder.cls_token"]) {
      expect(read(params.get(n)!).every((v) => v === 1), n).toBe(true);
    }
    opt.dispose();
    params.forEach((p) => p.dispose());
  });

  it("matches the torch update on a scalar and round-trips its state", () => {
    const p = tf.variable(tf.tensor1d([1.5]));
    const params = new Map([["w", p]]);
    const opt = new AdamW(params, { lr: 0.01, weightDecay: 0.1, decay: () => true });
    let [x, m, v] = [1.5, 0, 0];
    for (let t = 1; t <= 3; t++) {
      const g = 0.3 * t;
      x *= 1 - 0.01 * 0.1;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      x -= (0.01 / (1 - 0.9 ** t)) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
      const grad = tf.tensor1d([g]);
      opt.apply(new Map([["w", grad]]));
      grad.dispose();
    }
    expect(read(p)[0]).toBeCloseTo(x, 6);
    const s = opt.getState();
    expect(s.step).toBe(3);
    expect(read(s.tensors["exp_avg/w"])[0]).toBeCloseTo(m, 6);
    const other = new AdamW(new Map([["w", tf.variable(tf.tensor1d([0]))]]), { lr: 0.01 });
    other.setState(s);
    expect(other.step).toBe(3);
    expect(read(other.getState().tensors["exp_avg_sq/w"])[0]).toBeCloseTo(v, 9);
    expect(() => other.setState({ step: 1, tensors: {} })).toThrow(/missing "exp_avg\/w"/);
    expect(() => opt.apply(new Map([["nope", tf.scalar(1)]]))).toThrow(/unknown parameter "nope"/);
    opt.dispose();
    other.dispose();
    p.dispose();
  });
});

describe("AdamW: one fused kernel per step", () => {
  it("updates every parameter with a gradient in one AdamWUpdate, bit-identical to one op per parameter; the others stay untouched", async () => {
    const vals = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 10 ** ((i % 5) - 3));
    const shapes: Record<string, number[]> = { "blocks.0.fc.weight": [6, 4], "blocks.0.fc.bias": [4], "norm.weight": [4], frozen: [3, 2] };
    const params = new Map(Object.entries(shapes).map(([n, s], k) => [n, tf.variable(tf.tensor(vals(s.reduce((a, b) => a * b, 1), k + 1), s))] as const));
    const opt = new AdamW(params, { lr: 0.01, weightDecay: 0.05 });
    const frozen = params.get("frozen")!;
    const before = [frozen, opt.getState().tensors["exp_avg/frozen"], opt.getState().tensors["exp_avg_sq/frozen"]].map((t) => Array.from(t.dataSync()));
    // the per-parameter reference: p, m, v per parameter, stepped with the single-tensor op
    const ref = new Map<string, tf.Tensor[]>([...params].filter(([n]) => n !== "frozen").map(([n, p]) => [n, [p.clone(), tf.zerosLike(p), tf.zerosLike(p)]]));
    for (let t = 1; t <= 3; t++) {
      const grads = new Map([...ref.keys()].map((n, k) => [n, tf.tensor(vals(params.get(n)!.size, 10 * t + k), shapes[n])] as const));
      const prof = await tf.profile(() => opt.apply(grads));
      expect(prof.kernels.filter((k) => k.name === ADAMW_UPDATE), `step ${t}`).toHaveLength(1);
      for (const [n, [p, m, v]] of ref) {
        const wd = decaysByDefault(n, params.get(n)!) ? 0.05 : 0;
        const out = adamWUpdate(p, grads.get(n)!, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, stepSize: 0.01 / (1 - 0.9 ** t), sqrtBc2: Math.sqrt(1 - 0.999 ** t) });
        tf.dispose([p, m, v]);
        ref.set(n, out);
      }
      tf.dispose([...grads.values()]);
    }
    const state = opt.getState().tensors;
    for (const [n, [p, m, v]] of ref) {
      expect(read(params.get(n)!), n).toEqual(read(p));
      expect(read(state[`exp_avg/${n}`]), `exp_avg/${n}`).toEqual(read(m));
      expect(read(state[`exp_avg_sq/${n}`]), `exp_avg_sq/${n}`).toEqual(read(v));
    }
    expect([frozen, state["exp_avg/frozen"], state["exp_avg_sq/frozen"]].map((t) => read(t))).toEqual(before);
    opt.dispose();
    params.forEach((p) => p.dispose());
    tf.dispose([...ref.values()].flat());
  });
});

describe("schedules", () => {
  it("cosine lr with linear warm-up", () => {
    const s = { lr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 };
    expect(cosineLr(0, s)).toBeCloseTo(0.25);
    expect(cosineLr(3, s)).toBeCloseTo(1);
    expect(cosineLr(4, s)).toBeCloseTo(1);
    expect(cosineLr(9, s)).toBeCloseTo(0.55); // half-way: (1 + 0.1) / 2
    expect(cosineLr(14, s)).toBeCloseTo(0.1);
  });

  it("MoCo momentum m = 1 - (1 - m0)(cos(pi t/T) + 1)/2", () => {
    expect(momentumAt(0, 0.99, 100)).toBeCloseTo(0.99, 12);
    expect(momentumAt(50, 0.99, 100)).toBeCloseTo(0.995, 12);
    expect(momentumAt(25, 0.99, 100)).toBeCloseTo(1 - 0.01 * (Math.SQRT1_2 + 1) / 2, 12);
    expect(momentumAt(100, 0.99, 100)).toBe(1);
  });

  it("teacher temperature warm-up", () => {
    expect(teacherTempAt(0, 0.04, 0.07, 10)).toBeCloseTo(0.04);
    expect(teacherTempAt(5, 0.04, 0.07, 10)).toBeCloseTo(0.055);
    expect(teacherTempAt(20, 0.04, 0.07, 10)).toBeCloseTo(0.07);
  });

  it("clips by global norm", () => {
    const g = new Map([["a", tf.tensor1d([3])], ["b", tf.tensor1d([4])]]); // norm 5
    const c = clipByGlobalNorm(g, 1);
    expect(read(c.get("a")!)[0]).toBeCloseTo(0.6, 5);
    expect(read(c.get("b")!)[0]).toBeCloseTo(0.8, 5);
    const u = clipByGlobalNorm(g, 10);
    expect(read(u.get("b")!)[0]).toBeCloseTo(4, 5);
    tf.dispose([...g.values(), ...c.values(), ...u.values()]);
  });
});

describe("BatchNorm1d and MLP", () => {
  it("normalises with batch stats (biased var) and tracks running stats (unbiased var)", () => {
    const bn = new BatchNorm1d(1);
    const x = tf.tensor2d([[1], [2], [3], [6]]); // mean 3, biased var 3.5, unbiased 14/3
    const y = bn.apply(x, true);
    const want = [1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5));
    read(y).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect(read(bn.runningMean)[0]).toBeCloseTo(0.3, 6);
    expect(read(bn.runningVar)[0]).toBeCloseTo(0.9 + 0.1 * 14 / 3, 6);
    const e = bn.apply(x, false); // eval: running stats
    expect(read(e)[0]).toBeCloseTo((1 - 0.3) / Math.sqrt(0.9 + 0.1 * 14 / 3 + 1e-5), 5);
    tf.dispose([x, y, e]);
    bn.dispose();
  });

  it("names MoCo v3 MLP parameters by nn.Sequential index", () => {
    const proj = new MLP(3, 8, 16, 4);
    expect([...proj.params.keys()]).toEqual(["0.weight", "1.weight", "1.bias", "3.weight", "4.weight", "4.bias", "6.weight"]);
    expect([...proj.buffers.keys()]).toContain("7.running_var");
    const pred = new MLP(2, 4, 16, 4);
    expect([...pred.params.keys()]).toEqual(["0.weight", "1.weight", "1.bias", "3.weight"]);
    expect(proj.params.get("3.weight")!.shape).toEqual([16, 16]);
    proj.dispose();
    pred.dispose();
  });
});

describe("contrastive loss", () => {
  it("is CE(normalize(q) normalize(k)^T / T, arange) * 2T", () => {
    const q = [[1, 0], [0.6, 0.8], [-1, 1]];
    const k = [[0.5, 0.5], [0, 2], [1, -3]];
    const T = 0.2;
    const nrm = (r: number[]) => r.map((v) => v / Math.hypot(...r));
    const [qn, kn] = [q.map(nrm), k.map(nrm)];
    let ce = 0;
    for (let i = 0; i < 3; i++) {
      const logits = kn.map((kr) => (qn[i][0] * kr[0] + qn[i][1] * kr[1]) / T);
      const lse = Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
      ce += (lse - logits[i]) / 3;
    }
    const got = tf.tidy(() => contrastiveLoss(tf.tensor2d(q), tf.tensor2d(k), T).dataSync()[0]);
    expect(got).toBeCloseTo(ce * 2 * T, 5);
  });
});
