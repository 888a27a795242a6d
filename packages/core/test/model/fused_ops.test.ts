// FusedAttention and FusedMlp: the active backend's kernels (forward, and gradient through the
// saved activations) against the composites of tfjs ops, the grad kernels against the grad
// composites, and numerical gradients. Core's suites also run on the native and cuda(-host)
// backends (packages/native), so this compares every engine's kernels with the composite.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { expectClose, withoutKernels } from "../util/tensors.js";
import {
  FUSED_ATTENTION, FUSED_ATTENTION_GRAD, FUSED_MLP, FUSED_MLP_GRAD, fusedAttention, fusedAttentionComposite,
  fusedAttentionGrad, fusedAttentionGradComposite, fusedMlp, fusedMlpComposite, fusedMlpGrad, fusedMlpGradComposite,
  type AttentionParams, type MlpParams,
} from "../../src/model/index.js";

const rand = (shape: number[], std: number, seed: number) => tf.randomNormal(shape, 0, std, "float32", seed);

/** Central difference of scalar f along coordinate j of x (float32, so loose). */
function numericalGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, j: number, h = 1e-2): number {
  const base = x.dataSync().slice();
  const at = (d: number) => {
    const v = base.slice();
    v[j] += d;
    return tf.tidy(() => f(tf.tensor(v, x.shape)).dataSync()[0]);
  };
  return (at(h) - at(-h)) / (2 * h);
}

// Short ViT sequences (cls + kept patches); the second has 17 tokens like tiny32 at tokenDrop 0.5.
const ATTENTION_CASES = [{ B: 2, N: 5, D: 12, H: 3 }, { B: 3, N: 17, D: 32, H: 2 }];

describe("FusedAttention", () => {
  for (const { B, N, D, H } of ATTENTION_CASES) {
    const setup = () => {
      // Larger weights than the ViT init so the softmax is far from uniform.
      const p: AttentionParams = {
        qkvW: rand([3 * D, D], 0.4, 1) as tf.Tensor2D, qkvB: rand([3 * D], 0.2, 2) as tf.Tensor1D,
        projW: rand([D, D], 0.3, 3) as tf.Tensor2D, projB: rand([D], 0.2, 4) as tf.Tensor1D,
      };
      return { x: rand([B, N, D], 1, 5) as tf.Tensor3D, p, r: rand([B, N, D], 1, 6) };
    };
    const loss = (op: typeof fusedAttention, r: tf.Tensor) => (x: tf.Tensor, qkvW: tf.Tensor, qkvB: tf.Tensor, projW: tf.Tensor, projB: tf.Tensor) =>
      tf.sum(tf.mul(op(x as tf.Tensor3D, { qkvW, qkvB, projW, projB } as AttentionParams, H), r)) as tf.Scalar;

    it(`[${B}, ${N}, ${D}] x ${H} heads: kernel = composite`, () => {
      tf.tidy(() => {
        const { x, p } = setup();
        expectClose(fusedAttention(x, p, H), fusedAttentionComposite(x, p, H), 1e-5, 1e-6);
      });
    });

    it(`[${B}, ${N}, ${D}] x ${H} heads: outside a gradient tape the kernel saves nothing and returns the same output`, () => {
      tf.tidy(() => {
        const { x, p } = setup();
        if (!tf.getKernel(FUSED_ATTENTION, tf.getBackend())) return;
        const saved = tf.engine().runKernel(FUSED_ATTENTION, { x, ...p }, { numHeads: H }) as unknown as tf.Tensor[];
        const inference = tf.engine().runKernel(FUSED_ATTENTION, { x, ...p }, { numHeads: H, inference: true }) as unknown as tf.Tensor[];
        expect(saved.length).toBe(4);
        expect(inference.length).toBe(1);
        expect(Array.from(inference[0].dataSync())).toEqual(Array.from(saved[0].dataSync()));
        expect(Array.from(fusedAttention(x, p, H).dataSync())).toEqual(Array.from(saved[0].dataSync()));
      });
    });

    it(`[${B}, ${N}, ${D}] x ${H} heads: gradients (x and the 4 weights) = composite autodiff`, () => {
      tf.tidy(() => {
        const { x, p, r } = setup();
        const inputs = [x, p.qkvW, p.qkvB, p.projW, p.projB];
        const gk = tf.grads(loss(fusedAttention, r))(inputs);
        const gc = tf.grads(loss(fusedAttentionComposite, r))(inputs);
        ["x", "qkvW", "qkvB", "projW", "projB"].forEach((n, i) => expectClose(gk[i], gc[i], 1e-4, 1e-5, n));
        // The grad kernel against the grad composite on the same saved activations.
        if (tf.getKernel(FUSED_ATTENTION, tf.getBackend())) {
          const [, qkv, probs, ctx] = tf.engine().runKernel(FUSED_ATTENTION, { x, ...p }, { numHeads: H }) as unknown as tf.Tensor[];
          const args = [r as tf.Tensor3D, x, p.qkvW, p.projW, qkv as tf.Tensor3D, probs as tf.Tensor4D, ctx as tf.Tensor3D, H] as const;
          const k = fusedAttentionGrad(...args);
          fusedAttentionGradComposite(...args).forEach((g, i) => expectClose(k[i], g, 1e-4, 1e-5, `grad output ${i}`));
        }
      });
    });
  }

  it("gradient = numerical gradient", () => {
    tf.tidy(() => {
      const { B, N, D, H } = ATTENTION_CASES[0];
      const x = rand([B, N, D], 1, 7) as tf.Tensor3D;
      const p: AttentionParams = { qkvW: rand([3 * D, D], 0.4, 8) as tf.Tensor2D, qkvB: rand([3 * D], 0.2, 9) as tf.Tensor1D, projW: rand([D, D], 0.3, 10) as tf.Tensor2D, projB: rand([D], 0.2, 11) as tf.Tensor1D };
      const r = rand([B, N, D], 1, 12);
      const f = (xx: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(fusedAttention(xx as tf.Tensor3D, { ...p, qkvW: w as tf.Tensor2D }, H), r)) as tf.Scalar;
      const [gx, gw] = tf.grads(f)([x, p.qkvW]);
      for (const j of [0, 17, 100]) expect(Math.abs(gx.dataSync()[j] - numericalGrad((t) => f(t, p.qkvW), x, j))).toBeLessThan(2e-2);
      // A key weight (row D..2D) and a value weight (row 2D..3D).
      for (const j of [D * D + 3, 2 * D * D + 5]) expect(Math.abs(gw.dataSync()[j] - numericalGrad((t) => f(x, t), p.qkvW, j))).toBeLessThan(2e-2);
    });
  });

  it("falls back to the composites without kernels, and rejects bad shapes", () => {
    tf.tidy(() => {
      const { B, N, D, H } = ATTENTION_CASES[0];
      const x = rand([B, N, D], 1, 13) as tf.Tensor3D;
      const p: AttentionParams = { qkvW: rand([3 * D, D], 0.4, 14) as tf.Tensor2D, qkvB: rand([3 * D], 0.2, 15) as tf.Tensor1D, projW: rand([D, D], 0.3, 16) as tf.Tensor2D, projB: rand([D], 0.2, 17) as tf.Tensor1D };
      const r = rand([B, N, D], 1, 18);
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(fusedAttention(xx as tf.Tensor3D, p, H), r)) as tf.Scalar;
      const y = fusedAttention(x, p, H), g = tf.grad(f)(x);
      withoutKernels([FUSED_ATTENTION_GRAD], () => expectClose(tf.grad(f)(x), g, 1e-4, 1e-5, "grad composite"));
      withoutKernels([FUSED_ATTENTION, FUSED_ATTENTION_GRAD], () => {
        expectClose(fusedAttention(x, p, H), y, 1e-5, 1e-6, "forward composite");
        expectClose(tf.grad(f)(x), g, 1e-4, 1e-5, "autodiff");
      });
      expect(() => fusedAttention(x, p, 5)).toThrow(/numHeads must be a positive integer dividing D = 12, got 5/);
      expect(() => fusedAttention(x, { ...p, projW: tf.zeros([D, D + 1]) as tf.Tensor2D }, H)).toThrow(/FusedAttention: projW must be float32 \[12,12\]/);
      expect(() => fusedAttention(tf.reshape(x, [B * N, D]) as unknown as tf.Tensor3D, p, H)).toThrow(/x must be float32 \[B, N, D\]/);
    });
  });
});

describe("FusedMlp", () => {
  const R = 2, N = 9, D = 16, Hd = 40;
  const setup = () => {
    const p: MlpParams = {
      fc1W: rand([Hd, D], 0.4, 21) as tf.Tensor2D, fc1B: rand([Hd], 0.5, 22) as tf.Tensor1D,
      fc2W: rand([D, Hd], 0.3, 23) as tf.Tensor2D, fc2B: rand([D], 0.2, 24) as tf.Tensor1D,
    };
    return { x: rand([R, N, D], 1, 25), p, r: rand([R, N, D], 1, 26) };
  };
  const loss = (op: typeof fusedMlp, r: tf.Tensor) => (x: tf.Tensor, fc1W: tf.Tensor, fc1B: tf.Tensor, fc2W: tf.Tensor, fc2B: tf.Tensor) =>
    tf.sum(tf.mul(op(x, { fc1W, fc1B, fc2W, fc2B } as MlpParams), r)) as tf.Scalar;

  it("kernel = composite (2-D and 3-D inputs)", () => {
    tf.tidy(() => {
      const { x, p } = setup();
      expectClose(fusedMlp(x, p), fusedMlpComposite(x, p), 1e-5, 1e-6);
      const x2 = tf.reshape(x, [R * N, D]);
      expectClose(fusedMlp(x2, p), tf.reshape(fusedMlpComposite(x, p), [R * N, D]), 1e-5, 1e-6);
    });
  });

  it("outside a gradient tape the kernel saves nothing and returns the same output", () => {
    tf.tidy(() => {
      const { x, p } = setup();
      if (!tf.getKernel(FUSED_MLP, tf.getBackend())) return;
      const saved = tf.engine().runKernel(FUSED_MLP, { x, ...p }) as unknown as tf.Tensor[];
      const inference = tf.engine().runKernel(FUSED_MLP, { x, ...p }, { inference: true }) as unknown as tf.Tensor[];
      expect([saved.length, inference.length]).toEqual([3, 1]);
      expect(Array.from(inference[0].dataSync())).toEqual(Array.from(saved[0].dataSync()));
      expect(Array.from(fusedMlp(x, p).dataSync())).toEqual(Array.from(saved[0].dataSync()));
    });
  });

  it("gradients (x and the 4 weights) = composite autodiff; grad kernel = grad composite", () => {
    tf.tidy(() => {
      const { x, p, r } = setup();
      const inputs = [x, p.fc1W, p.fc1B, p.fc2W, p.fc2B];
      const gk = tf.grads(loss(fusedMlp, r))(inputs);
      const gc = tf.grads(loss(fusedMlpComposite, r))(inputs);
      ["x", "fc1W", "fc1B", "fc2W", "fc2B"].forEach((n, i) => expectClose(gk[i], gc[i], 1e-4, 1e-5, n));
      if (tf.getKernel(FUSED_MLP, tf.getBackend())) {
        const [, pre, act] = tf.engine().runKernel(FUSED_MLP, { x, ...p }) as unknown as tf.Tensor[];
        const k = fusedMlpGrad(r, x, p.fc1W, p.fc2W, pre, act);
        fusedMlpGradComposite(r, x, p.fc1W, p.fc2W, pre, act).forEach((g, i) => expectClose(k[i], g, 1e-4, 1e-5, `grad output ${i}`));
      }
      const f = (t: tf.Tensor) => loss(fusedMlp, r)(x, t, p.fc1B, p.fc2W, p.fc2B);
      for (const j of [0, 77, 400]) expect(Math.abs(gk[1].dataSync()[j] - numericalGrad(f, p.fc1W, j))).toBeLessThan(2e-2);
    });
  });

  it("falls back to the composites without kernels, and rejects bad shapes", () => {
    tf.tidy(() => {
      const { x, p, r } = setup();
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(fusedMlp(xx, p), r)) as tf.Scalar;
      const y = fusedMlp(x, p), g = tf.grad(f)(x);
      withoutKernels([FUSED_MLP_GRAD], () => expectClose(tf.grad(f)(x), g, 1e-4, 1e-5, "grad composite"));
      withoutKernels([FUSED_MLP, FUSED_MLP_GRAD], () => {
        expectClose(fusedMlp(x, p), y, 1e-5, 1e-6, "forward composite");
        expectClose(tf.grad(f)(x), g, 1e-4, 1e-5, "autodiff");
      });
      expect(() => fusedMlp(x, { ...p, fc2W: tf.zeros([D, Hd - 1]) as tf.Tensor2D })).toThrow(/FusedMlp: fc2W must be float32 \[16,40\]/);
      expect(() => fusedMlp(tf.zeros([D]), p)).toThrow(/x must be float32 \[\.\.\., D\]/);
    });
  });
});
