import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import {
  ADAMW_UPDATE, adamWUpdate, adamWUpdateComposite, adamWUpdateMulti, type AdamWGroup, type AdamWStepAttrs, type AdamWUpdateAttrs,
} from "../../src/train/ops/adamw_update.js";

// Deterministic values spanning signs and magnitudes (incl. exact zeros, which make sqrt(v) = 0).
function values(n: number, seed: number, scale: number, nonNegative = false): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    const mag = scale * 10 ** (6 * u - 4) * (i % 17 === 0 ? 0 : 1);
    out[i] = nonNegative || (s & 1) === 0 ? mag : -mag;
  }
  return out;
}

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));

describe("AdamWUpdate", () => {
  for (const weightDecay of [0, 0.05]) {
    it(`kernel equals the tfjs composite bit for bit (weightDecay ${weightDecay})`, () => {
      for (const [t, shape] of [[1, [7]], [3, [33, 5]], [1000, [2, 3, 4, 5]]] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const lr = 1.5e-3, beta1 = 0.9, beta2 = 0.999;
        const attrs: AdamWUpdateAttrs = {
          lr, beta1, beta2, eps: 1e-8, weightDecay,
          stepSize: lr / (1 - beta1 ** t), sqrtBc2: Math.sqrt(1 - beta2 ** t),
        };
        const p = tf.tensor(values(n, 1 + t, 1), [...shape]);
        const g = tf.tensor(values(n, 2 + t, 0.1), [...shape]);
        const m = tf.tensor(values(n, 3 + t, 0.01), [...shape]);
        const v = tf.tensor(values(n, 4 + t, 1e-4, true), [...shape]);
        const fused = adamWUpdate(p, g, m, v, attrs);
        const ref = adamWUpdateComposite(p, g, m, v, attrs);
        for (let k = 0; k < 3; k++) {
          expect(fused[k].shape).toEqual([...shape]);
          expect(fused[k].dtype).toBe("float32");
          expect(bits(fused[k]), `output ${k}, t=${t}`).toEqual(bits(ref[k]));
        }
        tf.dispose([p, g, m, v, ...fused, ...ref]);
      }
    });
  }

  it("runs the registered kernel on cpu and checks dtypes and shapes", () => {
    expect(tf.getKernel(ADAMW_UPDATE, "cpu")).toBeDefined();
    const a = tf.zeros([2]);
    const attrs: AdamWUpdateAttrs = { lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, stepSize: 1, sqrtBc2: 1 };
    expect(() => adamWUpdate(a, tf.zeros([3]), a, a, attrs)).toThrow(/grad has shape \[3\]/);
    expect(() => adamWUpdate(a, a, tf.zeros([2], "int32"), a, attrs)).toThrow(/m must be float32/);
    tf.dispose(a);
  });

  it("leaves no tensors behind", () => {
    const p = tf.ones([4]);
    const before = tf.memory().numTensors;
    const attrs: AdamWUpdateAttrs = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, stepSize: 1, sqrtBc2: 0.03 };
    const out = adamWUpdate(p, p, p, p, attrs);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([...out, p]);
  });
});

describe("AdamWUpdate over N groups (multi-tensor apply)", () => {
  const lr = 1.5e-3, beta1 = 0.9, beta2 = 0.999, t = 7;
  const step: AdamWStepAttrs = { lr, beta1, beta2, eps: 1e-8, stepSize: lr / (1 - beta1 ** t), sqrtBc2: Math.sqrt(1 - beta2 ** t) };
  // mixed shapes (a scalar and an empty tensor too), weight decay on and off
  const specs: [shape: number[], weightDecay: number][] = [[[33, 5], 0.05], [[7], 0], [[], 0.1], [[0, 3], 0.05], [[2, 3, 4, 5], 0], [[1000], 0.05]];
  function makeGroups(): AdamWGroup[] {
    return specs.map(([shape, weightDecay], k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return {
        param: tf.tensor(values(n, 11 + k, 1), shape), grad: tf.tensor(values(n, 21 + k, 0.1), shape),
        m: tf.tensor(values(n, 31 + k, 0.01), shape), v: tf.tensor(values(n, 41 + k, 1e-4, true), shape), weightDecay,
      };
    });
  }
  const groupTensors = (gs: AdamWGroup[]) => gs.flatMap((g) => [g.param, g.grad, g.m, g.v]);

  it("one kernel equals the single-tensor op and the composite, group by group, bit for bit", async () => {
    const groups = makeGroups();
    let multi: [tf.Tensor, tf.Tensor, tf.Tensor][] = [];
    const prof = await tf.profile(() => { multi = adamWUpdateMulti(groups, step); });
    expect(prof.kernels.map((k) => k.name)).toEqual([ADAMW_UPDATE]);
    expect(multi).toHaveLength(groups.length);
    groups.forEach(({ param, grad, m, v, weightDecay }, k) => {
      const single = adamWUpdate(param, grad, m, v, { ...step, weightDecay });
      const ref = adamWUpdateComposite(param, grad, m, v, { ...step, weightDecay });
      for (let j = 0; j < 3; j++) {
        expect(multi[k][j].shape).toEqual(param.shape);
        expect(multi[k][j].dtype).toBe("float32");
        expect(bits(multi[k][j]), `group ${k} output ${j} vs single`).toEqual(bits(single[j]));
        expect(bits(multi[k][j]), `group ${k} output ${j} vs composite`).toEqual(bits(ref[j]));
      }
      tf.dispose([...single, ...ref]);
    });
    tf.dispose([...groupTensors(groups), ...multi.flat()]);
  });

  it("falls back to the composite, group by group, on a backend without the kernel", () => {
    const groups = makeGroups();
    const withKernel = adamWUpdateMulti(groups, step);
    const config = tf.getKernel(ADAMW_UPDATE, tf.getBackend())!;
    tf.unregisterKernel(ADAMW_UPDATE, tf.getBackend());
    let fallback: [tf.Tensor, tf.Tensor, tf.Tensor][];
    try {
      fallback = adamWUpdateMulti(groups, step);
    } finally {
      tf.registerKernel(config);
    }
    withKernel.forEach((outs, k) => outs.forEach((o, j) => expect(bits(fallback[k][j]), `group ${k} output ${j}`).toEqual(bits(o))));
    tf.dispose([...groupTensors(groups), ...withKernel.flat(), ...fallback!.flat()]);
  });

  it("checks every group before running and runs nothing for no groups", async () => {
    const groups = makeGroups();
    const bad = [...groups];
    bad[2] = { ...groups[2], v: tf.zeros([3]) };
    expect(() => adamWUpdateMulti(bad, step)).toThrow(/v has shape \[3\], param has \[\] \(group 2\)/);
    bad[2] = { ...groups[2], weightDecay: NaN };
    expect(() => adamWUpdateMulti(bad, step)).toThrow(/weightDecay must be a finite number, got NaN \(group 2\)/);
    const prof = await tf.profile(() => { expect(adamWUpdateMulti([], step)).toEqual([]); });
    expect(prof.kernels).toHaveLength(0);
    tf.dispose([...groupTensors(bad), ...groupTensors(groups)]);
  });
});
