import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { emaUpdate as emaUpdateModules } from "../../src/train/method.js";
import { EMA_UPDATE, emaUpdate, emaUpdateComposite, emaUpdateMulti } from "../../src/train/ops/ema_update.js";

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale * 10 ** ((i % 7) - 3);
  }
  return out;
}
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));

describe("EmaUpdate", () => {
  it("equals the tfjs composite bit for bit", () => {
    for (const momentum of [0.99, 0.996, 0.9999, 1, 0]) {
      for (const shape of [[5], [33, 7], [2, 3, 4, 5]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const t = tf.tensor(values(n, 1 + shape.length, 1), shape);
        const s = tf.tensor(values(n, 7 + shape.length, 2), shape);
        const fused = emaUpdate(t, s, momentum);
        const ref = emaUpdateComposite(t, s, momentum);
        expect(fused.shape).toEqual(shape);
        expect(bits(fused), `m=${momentum} [${shape}]`).toEqual(bits(ref));
        tf.dispose([t, s, fused, ref]);
      }
    }
  });

  it("leaves a target equal to its source unchanged, bit for bit (a momentum encoder at step 0)", () => {
    for (const momentum of [0.99, 0.996, 0.9, 0.5]) {
      const t = tf.tensor(values(4099, 3, 1));
      const out = emaUpdate(t, t.clone(), momentum);
      expect(bits(out), `m=${momentum}`).toEqual(bits(t));
      tf.dispose([t, out]);
    }
  });

  it("moves the target toward the source and checks its inputs", () => {
    const t = tf.tensor([0, 10]);
    const s = tf.tensor([1, 0]);
    const out = emaUpdate(t, s, 0.9);
    const b = Math.fround(0.1); // 1 - m in float32
    expect(Array.from(out.dataSync())).toEqual([Math.fround(0 + Math.fround(1 * b)), Math.fround(10 + Math.fround(-10 * b))]);
    expect(() => emaUpdate(t, tf.zeros([3]), 0.9)).toThrow(/source has shape \[3\], target has \[2\]/);
    expect(() => emaUpdate(t, tf.zeros([2], "int32"), 0.9)).toThrow(/source must be float32/);
    expect(() => emaUpdate(t, s, NaN)).toThrow(/momentum must be a finite number/);
    expect(tf.getKernel(EMA_UPDATE, "cpu")).toBeDefined();
    tf.dispose([t, s, out]);
  });
});

describe("EmaUpdate over N pairs (multi-tensor apply)", () => {
  // mixed shapes, a scalar, an empty tensor, and a target equal to its source (pair 2)
  const shapes = [[33, 7], [5], [4099], [], [0, 4], [2, 3, 4, 5]];
  function makePairs(): [tf.Tensor, tf.Tensor][] {
    return shapes.map((shape, k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const t = tf.tensor(values(n, 3 + k, 1), shape);
      return [t, k === 2 ? t.clone() : tf.tensor(values(n, 13 + k, 2), shape)];
    });
  }

  it("one kernel equals the single-tensor op and the composite, pair by pair, bit for bit", async () => {
    for (const momentum of [0.996, 0.9, 0]) {
      const pairs = makePairs();
      let multi: tf.Tensor[] = [];
      const prof = await tf.profile(() => { multi = emaUpdateMulti(pairs, momentum); });
      expect(prof.kernels.map((k) => k.name)).toEqual([EMA_UPDATE]);
      expect(multi).toHaveLength(pairs.length);
      pairs.forEach(([t, s], k) => {
        const single = emaUpdate(t, s, momentum), ref = emaUpdateComposite(t, s, momentum);
        expect(multi[k].shape).toEqual(t.shape);
        expect(bits(multi[k]), `m=${momentum} pair ${k} vs single`).toEqual(bits(single));
        expect(bits(multi[k]), `m=${momentum} pair ${k} vs composite`).toEqual(bits(ref));
        tf.dispose([single, ref]);
      });
      // a target equal to its source stays bit-identical
      expect(bits(multi[2]), `m=${momentum}: equal target`).toEqual(bits(pairs[2][0]));
      tf.dispose([...pairs.flat(), ...multi]);
    }
  });

  it("falls back to the composite, pair by pair, on a backend without the kernel", () => {
    const pairs = makePairs();
    const withKernel = emaUpdateMulti(pairs, 0.99);
    const config = tf.getKernel(EMA_UPDATE, tf.getBackend())!;
    tf.unregisterKernel(EMA_UPDATE, tf.getBackend());
    let fallback: tf.Tensor[];
    try {
      fallback = emaUpdateMulti(pairs, 0.99);
    } finally {
      tf.registerKernel(config);
    }
    withKernel.forEach((o, k) => expect(bits(fallback[k]), `pair ${k}`).toEqual(bits(o)));
    tf.dispose([...pairs.flat(), ...withKernel, ...fallback!]);
  });

  it("checks every pair before running and runs nothing for no pairs", async () => {
    const [a, b] = [tf.zeros([2]), tf.zeros([3])];
    expect(() => emaUpdateMulti([[a, a], [a, b]], 0.9)).toThrow(/source has shape \[3\], target has \[2\] \(pair 1\)/);
    const prof = await tf.profile(() => { expect(emaUpdateMulti([], 0.9)).toEqual([]); });
    expect(prof.kernels).toHaveLength(0);
    tf.dispose([a, b]);
  });

  it("a whole momentum-encoder update is one kernel and keeps equal targets equal", async () => {
    const mk = (seed: number) => ({ params: new Map(shapes.map((shape, k) => [`p${k}`, tf.variable(tf.tensor(values(shape.reduce((x, y) => x * y, 1), seed + k, 1), shape))])) });
    const [target, source, head, headSource] = [mk(1), mk(100), mk(7), mk(7)];
    const expected = [...target.params].map(([n, t]) => emaUpdate(t, source.params.get(n)!, 0.99));
    const heads = [...head.params.values()].map((t) => bits(t));
    const prof = await tf.profile(() => emaUpdateModules([[target, source], [head, headSource]], 0.99));
    expect(prof.kernels.map((k) => k.name).filter((n) => n === EMA_UPDATE)).toHaveLength(1);
    [...target.params.values()].forEach((t, k) => expect(bits(t), `p${k}`).toEqual(bits(expected[k])));
    [...head.params.values()].forEach((t, k) => expect(bits(t), `head p${k}`).toEqual(heads[k]));
    for (const m of [target, source, head, headSource]) m.params.forEach((v) => v.dispose());
    tf.dispose(expected);
  });
});
