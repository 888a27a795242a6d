// BatchNorm1d (training mode): the active backend's kernel against the composite of tfjs ops
// (output and running statistics), the gradient through the kernel against the composite's
// autodiff, the grad kernel against the grad composite, and a numerical gradient. Core's suites
// also run on the native and cuda(-host) backends (packages/native).
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { expectClose, withoutKernels } from "../util/tensors.js";
import {
  BATCH_NORM_1D, BATCH_NORM_1D_GRAD, BatchNorm1d, batchNorm1d, batchNorm1dComposite, batchNorm1dGrad, batchNorm1dGradComposite,
  type BatchNorm1dParams,
} from "../../src/train/index.js";

const rand = (shape: number[], std: number, seed: number, mean = 0) => tf.randomNormal(shape, mean, std, "float32", seed);
const ATTRS = { eps: 1e-5, momentum: 0.1 };
// [B, C]: the smallest batch, an odd one, and MoCo v3-like widths; offsets stress the variance.
const CASES = [{ B: 2, C: 3, offset: 0 }, { B: 5, C: 17, offset: 3 }, { B: 8, C: 64, offset: 0 }];

/** Parameters from a seed (the same values on every call: each run updates its own running statistics). */
function params(C: number, affine: boolean, seed: number): BatchNorm1dParams {
  const p: BatchNorm1dParams = { runningMean: tf.variable(rand([C], 0.5, seed), false), runningVar: tf.variable(tf.abs(rand([C], 1, seed + 1, 1)), false) };
  if (affine) Object.assign(p, { weight: rand([C], 0.5, seed + 2, 1), bias: rand([C], 0.5, seed + 3) });
  return p;
}
const disposeParams = (p: BatchNorm1dParams) => tf.dispose([p.runningMean, p.runningVar, ...(p.weight ? [p.weight, p.bias!] : [])]);

describe("BatchNorm1d op", () => {
  for (const { B, C, offset } of CASES) {
    for (const affine of [true, false]) {
      const name = `[${B}, ${C}]${affine ? "" : " affine=False"}`;

      it(`${name}: kernel = composite (output and running statistics)`, () => {
        tf.tidy(() => {
          const x = rand([B, C], 2, 7, offset) as tf.Tensor2D;
          const p = params(C, affine, 11), q = params(C, affine, 11);
          expectClose(batchNorm1d(x, p, ATTRS), batchNorm1dComposite(x, q, ATTRS), 1e-5, 1e-5, `${name} y`);
          expectClose(p.runningMean, q.runningMean, 1e-6, 1e-6, `${name} runningMean`);
          expectClose(p.runningVar, q.runningVar, 1e-6, 1e-6, `${name} runningVar`);
          disposeParams(p);
          disposeParams(q);
        });
      });

      it(`${name}: gradients through the kernel = composite autodiff; grad kernel = grad composite`, () => {
        tf.tidy(() => {
          const x = rand([B, C], 2, 7, offset) as tf.Tensor2D;
          const p = params(C, affine, 11);
          const r = rand([B, C], 1, 13);
          const loss = (op: typeof batchNorm1d) => (xx: tf.Tensor, w?: tf.Tensor, b?: tf.Tensor) =>
            tf.sum(tf.mul(op(xx as tf.Tensor2D, { ...p, weight: w, bias: b }, ATTRS), r)) as tf.Scalar;
          const args = affine ? [x, p.weight!, p.bias!] : [x];
          const got = tf.grads(loss(batchNorm1d))(args);
          const want = tf.grads(loss(batchNorm1dComposite))(args);
          got.forEach((g, i) => expectClose(g, want[i], 1e-4, 1e-5, `${name} grad ${i}`));
          const k = batchNorm1dGrad(r as tf.Tensor2D, x, p.weight as tf.Tensor1D | undefined, ATTRS.eps);
          const c = batchNorm1dGradComposite(r as tf.Tensor2D, x, p.weight as tf.Tensor1D | undefined, ATTRS.eps);
          expect(k.length).toBe(affine ? 3 : 1);
          k.forEach((g, i) => expectClose(g, c[i], 1e-4, 1e-5, `${name} grad kernel ${i}`));
          disposeParams(p);
        });
      });
    }
  }

  it("gradient = numerical gradient (float32, central differences)", () => {
    tf.tidy(() => {
      const x = rand([4, 3], 1, 21) as tf.Tensor2D;
      const p = params(3, true, 23);
      const r = rand([4, 3], 1, 25);
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(tf.square(batchNorm1d(xx as tf.Tensor2D, p, ATTRS)), r)) as tf.Scalar;
      const g = tf.grad(f)(x).dataSync();
      const base = x.dataSync().slice();
      for (const j of [0, 5, 11]) {
        const at = (d: number) => { const v = base.slice(); v[j] += d; return f(tf.tensor2d(v, [4, 3])).dataSync()[0]; };
        const num = (at(1e-2) - at(-1e-2)) / 2e-2;
        expect(Math.abs(g[j] - num), `x[${j}]`).toBeLessThanOrEqual(2e-2 * Math.max(1, Math.abs(num)));
      }
      disposeParams(p);
    });
  });

  it("the running statistics follow PyTorch: (1-m)*old + m*batch, unbiased variance", () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[1], [2], [3], [6]]); // mean 3, biased var 3.5, unbiased 14/3
      const p = { runningMean: tf.variable(tf.tensor1d([1]), false), runningVar: tf.variable(tf.tensor1d([2]), false) };
      const y = batchNorm1d(x, p, { eps: 0, momentum: 0.25 });
      expect(p.runningMean.dataSync()[0]).toBeCloseTo(0.75 * 1 + 0.25 * 3, 6);
      expect(p.runningVar.dataSync()[0]).toBeCloseTo(0.75 * 2 + 0.25 * 14 / 3, 6);
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(([1, 2, 3, 6][i] - 3) / Math.sqrt(3.5), 5));
      // once per forward, also under a gradient tape
      tf.grad((xx: tf.Tensor) => tf.sum(batchNorm1d(xx as tf.Tensor2D, p, { eps: 0, momentum: 0.25 })))(x);
      expect(p.runningMean.dataSync()[0]).toBeCloseTo(0.75 * (0.75 * 1 + 0.25 * 3) + 0.25 * 3, 6);
      disposeParams(p);
    });
  });

  it("the module on the kernel and on the composite: same outputs, statistics and parameter gradients", () => {
    const run = () => {
      const bn = new BatchNorm1d(6);
      const x = rand([5, 6], 3, 31, 1) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(bn.apply(x, true))) as tf.Scalar, [bn.weight!, bn.bias!]);
      const out = [value, grads[bn.weight!.name], grads[bn.bias!.name], tf.clone(bn.runningMean), tf.clone(bn.runningVar)];
      bn.dispose();
      x.dispose();
      return out;
    };
    const got = run();
    const want = withoutKernels([BATCH_NORM_1D, BATCH_NORM_1D_GRAD], run);
    got.forEach((g, i) => expectClose(g, want[i], 1e-4, 1e-5, `module output ${i}`));
    tf.dispose([...got, ...want]);
  });

  it("inside a gradient tape it leaks no tensors", () => {
    const bn = new BatchNorm1d(4);
    const x = rand([3, 4], 1, 41) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.variableGrads(() => tf.sum(bn.apply(x, true)) as tf.Scalar, [bn.weight!, bn.bias!]);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.tidy(() => {
      bn.apply(x, true);
    });
    expect(tf.memory().numTensors).toBe(before);
    bn.dispose();
    x.dispose();
  });

  it("rejects bad shapes and a batch of one with named errors", () => {
    tf.tidy(() => {
      const p = params(3, true, 51);
      expect(() => batchNorm1d(tf.zeros([1, 3]) as tf.Tensor2D, p, ATTRS)).toThrow(/batch of at least 2/);
      expect(() => batchNorm1d(tf.zeros([2, 4]) as tf.Tensor2D, p, ATTRS)).toThrow(/weight must be float32 \[4\]/);
      expect(() => batchNorm1d(tf.zeros([2, 3, 1]) as unknown as tf.Tensor2D, p, ATTRS)).toThrow(/x must be float32 \[B, C\]/);
      expect(() => batchNorm1d(tf.zeros([2, 3]) as tf.Tensor2D, { ...p, bias: undefined }, ATTRS)).toThrow(/both weight and bias/);
      disposeParams(p);
    });
  });
});
