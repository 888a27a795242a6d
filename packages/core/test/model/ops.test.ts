// Custom ops: the active backend's kernel vs the tfjs composite vs float64 references and
// numerical gradients, on random inputs.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import {
  DILEMMA_EMBED, GELU_ERF, LAYER_NORM, dilemmaEmbed, dilemmaEmbedComposite, dilemmaEmbedGrad, dilemmaEmbedGradComposite,
  erf, geluErf, geluErfComposite, layerNorm, layerNormComposite, sampleDilemma, sampleToTensors,
} from "../../src/model/index.js";

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
function expectClose(actual: tf.Tensor, expected: tf.Tensor | ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected;
  const a = actual.dataSync();
  expect(a.length).toBe(e.length);
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - e[i]));
  expect(err).toBeLessThanOrEqual(atol + rtol * maxAbs(e));
}

/** Central-difference gradient of scalar f at x for a few coordinates (float32, so loose). */
function numericalGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, coords: number[], h = 1e-2): number[] {
  const base = x.dataSync().slice();
  return coords.map((j) => {
    const at = (d: number) => {
      const v = base.slice();
      v[j] += d;
      return tf.tidy(() => f(tf.tensor(v, x.shape)).dataSync()[0]);
    };
    return (at(h) - at(-h)) / (2 * h);
  });
}

/** Runs `fn` with the active backend's kernel for `name` unregistered, forcing the composite path. */
function withoutKernel<T>(name: string, fn: () => T): T {
  const cfg = tf.getKernel(name, tf.getBackend());
  if (cfg) tf.unregisterKernel(name, tf.getBackend());
  try {
    return fn();
  } finally {
    if (cfg) tf.registerKernel(cfg);
  }
}

describe("erf", () => {
  it("matches reference values to double precision", () => {
    const ref: [number, number][] = [[0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [2.4999, 0.9995928300996666], [2.5, 0.9995930479825550], [3, 0.9999779095030014], [4.5, 0.9999999998033839]];
    for (const [x, y] of ref) {
      expect(Math.abs(erf(x) - y)).toBeLessThan(1e-14);
      expect(Math.abs(erf(-x) + y)).toBeLessThan(1e-14);
    }
    expect(erf(10)).toBe(1);
  });
});

describe("GeluErf", () => {
  it("kernel matches the float64 formula and the composite", () => {
    tf.tidy(() => {
      const x = tf.mul(tf.randomNormal([7, 33], 0, 2, "float32", 1), 1);
      const ref = Array.from(x.dataSync(), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
      expectClose(geluErf(x), ref, 1e-6, 1e-7);
      expectClose(geluErfComposite(x), ref, 1e-5, 1e-6);
      expect(geluErf(x).shape).toEqual([7, 33]);
    });
  });

  it("gradient: kernel = composite autodiff = numerical", () => {
    tf.tidy(() => {
      const x = tf.randomNormal([5, 9], 0, 2, "float32", 2);
      const r = tf.randomNormal([5, 9], 0, 1, "float32", 3);
      const f = (op: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(op(t), r)) as tf.Scalar;
      const g = tf.grad(f(geluErf))(x);
      expectClose(g, tf.grad(f(geluErfComposite))(x), 1e-5, 1e-6);
      const coords = [0, 7, 22, 44];
      const num = numericalGrad(f(geluErf), x, coords);
      coords.forEach((j, i) => expect(Math.abs(g.dataSync()[j] - num[i])).toBeLessThan(2e-3));
    });
  });

  it("runs its kernel when registered and the composite when not", async () => {
    const x = tf.randomNormal([4, 6], 0, 1, "float32", 4);
    const names = async () => (await tf.profile(() => geluErf(x))).kernelNames;
    expect(await names()).toEqual([GELU_ERF]);
    const cfg = tf.getKernel(GELU_ERF, tf.getBackend())!;
    tf.unregisterKernel(GELU_ERF, tf.getBackend());
    try {
      expect(await names()).not.toContain(GELU_ERF);
      expect((await names()).length).toBeGreaterThan(1);
    } finally {
      tf.registerKernel(cfg);
    }
    x.dispose();
  });

  it("falls back to the composite when the backend has no kernel", () => {
    tf.tidy(() => {
      const x = tf.randomNormal([4, 6], 0, 1, "float32", 4);
      const y = geluErf(x);
      const g = tf.grad((t: tf.Tensor) => tf.sum(geluErf(t)) as tf.Scalar)(x);
      withoutKernel(GELU_ERF, () => {
        expectClose(geluErf(x), y, 1e-5, 1e-6);
        expectClose(tf.grad((t: tf.Tensor) => tf.sum(geluErf(t)) as tf.Scalar)(x), g, 1e-5, 1e-6);
      });
    });
  });
});

describe("LayerNorm", () => {
  const D = 24;
  const setup = () => ({
    x: tf.add(tf.randomNormal([3, 5, D], 0, 3, "float32", 5), 4), // offset mean: tests centring
    gamma: tf.randomNormal([D], 1, 0.5, "float32", 6) as tf.Tensor1D,
    beta: tf.randomNormal([D], 0, 0.5, "float32", 7) as tf.Tensor1D,
    r: tf.randomNormal([3, 5, D], 0, 1, "float32", 8),
  });

  it("kernel matches a float64 reference and the composite", () => {
    tf.tidy(() => {
      const { x, gamma, beta } = setup();
      const xv = x.dataSync(), gv = gamma.dataSync(), bv = beta.dataSync();
      const ref = new Float64Array(xv.length);
      for (let o = 0; o < xv.length; o += D) {
        const row = Array.from(xv.subarray(o, o + D));
        const m = row.reduce((a, b) => a + b, 0) / D;
        const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / D;
        row.forEach((val, d) => (ref[o + d] = ((val - m) / Math.sqrt(v + 1e-6)) * gv[d] + bv[d]));
      }
      expectClose(layerNorm(x, gamma, beta, 1e-6), ref, 1e-6, 1e-6);
      expectClose(layerNormComposite(x, gamma, beta, 1e-6), ref, 1e-5, 1e-5);
    });
  });

  it("gradients (x, gamma, beta): kernel = composite autodiff = numerical", () => {
    tf.tidy(() => {
      const { x, gamma, beta, r } = setup();
      const loss = (op: typeof layerNormComposite) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(op(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-6), r)) as tf.Scalar;
      const gk = tf.grads(loss(layerNorm))([x, gamma, beta]);
      const gc = tf.grads(loss(layerNormComposite))([x, gamma, beta]);
      gk.forEach((g, i) => expectClose(g, gc[i], 1e-4, 1e-5));
      const numX = numericalGrad((t) => loss(layerNorm)(t, gamma, beta), x, [0, 30, 100], 1e-2);
      [0, 30, 100].forEach((j, i) => expect(Math.abs(gk[0].dataSync()[j] - numX[i])).toBeLessThan(1e-2));
      const numG = numericalGrad((t) => loss(layerNorm)(x, t, beta), gamma, [0, 11], 1e-2);
      [0, 11].forEach((j, i) => expect(Math.abs(gk[1].dataSync()[j] - numG[i])).toBeLessThan(1e-2));
    });
  });

  it("falls back to the composite and rejects mismatched gamma", () => {
    tf.tidy(() => {
      const { x, gamma, beta } = setup();
      const y = layerNorm(x, gamma, beta);
      withoutKernel(LAYER_NORM, () => expectClose(layerNorm(x, gamma, beta), y, 1e-5, 1e-5));
      expect(() => layerNorm(x, tf.ones([D + 1]) as tf.Tensor1D, beta)).toThrow(/gamma and beta must be \[24\]/);
    });
  });
});

describe("DilemmaEmbed", () => {
  const B = 3, L = 16, D = 8;
  const setup = (tokenDrop: number) => {
    const s = sampleDilemma({ batch: B, numPatches: L, tokenDrop, dilemmaProb: 0.5, rng: { seed: 9, counter: 0 } });
    const { realPos, inputPos } = sampleToTensors(s);
    return {
      s, realPos, inputPos,
      tokens: tf.randomNormal([B, L, D], 0, 1, "float32", 10) as tf.Tensor3D,
      pos: tf.randomNormal([L, D], 0, 1, "float32", 11) as tf.Tensor2D,
    };
  };

  for (const tokenDrop of [0.5, 0]) {
    it(`forward matches the definition (tokenDrop ${tokenDrop}); kernel = composite`, () => {
      tf.tidy(() => {
        const { s, realPos, inputPos, tokens, pos } = setup(tokenDrop);
        const K = s.numKept;
        const t = tokens.dataSync(), p = pos.dataSync();
        const ref = new Float32Array(B * K * D);
        for (let b = 0; b < B; b++) for (let i = 0; i < K; i++) for (let d = 0; d < D; d++) {
          ref[(b * K + i) * D + d] = t[(b * L + s.realPos[b * K + i]) * D + d] + p[s.inputPos[b * K + i] * D + d];
        }
        const out = dilemmaEmbed(tokens, pos, realPos, inputPos);
        expect(out.shape).toEqual([B, K, D]);
        expectClose(out, ref, 0, 0);
        expectClose(dilemmaEmbedComposite(tokens, pos, realPos, inputPos), ref, 0, 0);
      });
    });
  }

  it("gradient: kernel = composite autodiff = scatter definition, indices get none", () => {
    tf.tidy(() => {
      const { s, realPos, inputPos, tokens, pos } = setup(0.5);
      const K = s.numKept;
      const r = tf.randomNormal([B, K, D], 0, 1, "float32", 12);
      const loss = (op: typeof dilemmaEmbed) => (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(op(a as tf.Tensor3D, b as tf.Tensor2D, realPos, inputPos), r)) as tf.Scalar;
      const [gT, gP] = tf.grads(loss(dilemmaEmbed))([tokens, pos]);
      const [cT, cP] = tf.grads(loss(dilemmaEmbedComposite))([tokens, pos]);
      expectClose(gT, cT, 1e-6, 1e-6);
      expectClose(gP, cP, 1e-6, 1e-6);
      const [dT, dP] = dilemmaEmbedGradComposite(r as tf.Tensor3D, realPos, inputPos, L);
      expectClose(dilemmaEmbedGrad(r as tf.Tensor3D, realPos, inputPos, L)[0], dT, 1e-6, 1e-6);
      expectClose(gT, dT, 1e-6, 1e-6);
      expectClose(gP, dP, 1e-6, 1e-6);
      // dropped patches receive no gradient; a corrupted position accumulates over the batch
      const gt = gT.dataSync();
      for (let b = 0; b < B; b++) {
        const kept = new Set(s.realPos.subarray(b * K, (b + 1) * K));
        for (let l = 0; l < L; l++) if (!kept.has(l)) for (let d = 0; d < D; d++) expect(gt[(b * L + l) * D + d]).toBe(0);
      }
      const rv = r.dataSync();
      const col = new Float64Array(L);
      for (let j = 0; j < B * K; j++) col[s.inputPos[j]] += rv[j * D];
      expectClose(tf.slice(gP, [0, 0], [L, 1]), col, 1e-6, 1e-6);
    });
  });

  it("falls back to the composite without a kernel", () => {
    tf.tidy(() => {
      const { realPos, inputPos, tokens, pos } = setup(0.5);
      const y = dilemmaEmbed(tokens, pos, realPos, inputPos);
      withoutKernel(DILEMMA_EMBED, () => expectClose(dilemmaEmbed(tokens, pos, realPos, inputPos), y, 0, 0));
    });
  });

  it("rejects out-of-range indices and bad shapes with a clear error", () => {
    tf.tidy(() => {
      const { realPos, inputPos, tokens, pos } = setup(0.5);
      const bad = tf.tensor2d([[0, 1, 2, 3, 4, 5, 6, 16], [0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3, 4, 5, 6, 7]], [3, 8], "int32");
      expect(() => dilemmaEmbed(tokens, pos, bad, inputPos)).toThrow(/DilemmaEmbed: realPos\[0,7\]=16 out of \[0, 16\)/);
      expect(() => dilemmaEmbed(tokens, pos, realPos, tf.neg(bad) as tf.Tensor2D)).toThrow(/inputPos\[0,1\]=-1 out of/);
      expect(() => dilemmaEmbedComposite(tokens, pos, bad, inputPos)).toThrow(/realPos\[0,7\]=16/);
      expect(() => dilemmaEmbed(tokens, pos, tf.cast(realPos, "float32") as tf.Tensor2D, inputPos)).toThrow(/realPos must be int32/);
      expect(() => dilemmaEmbed(tokens, tf.zeros([L - 1, D]) as tf.Tensor2D, realPos, inputPos)).toThrow(/posEmbed must be \[L, D\]/);
    });
  });
});
