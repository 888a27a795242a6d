import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { ViT, decodeWeights, encodeWeights } from "../../src/index.js";

describe("weights (tfjs weights format)", () => {
  it("round-trips names, order, dtypes and values", async () => {
    const named = { "a.w": tf.tensor2d([[1, 2], [3, 4.5]]), "b": tf.tensor1d([7, -1], "int32"), "c": tf.scalar(3.25) };
    const { modelJson, data } = await encodeWeights(named);
    expect(modelJson.format).toBe("dilemma-weights");
    expect(modelJson.weightsManifest[0].paths).toEqual(["weights.bin"]);
    expect(data.byteLength).toBe(4 * 4 + 2 * 4 + 4);
    const back = decodeWeights(JSON.parse(JSON.stringify(modelJson)), data);
    expect(Object.keys(back)).toEqual(["a.w", "b", "c"]);
    expect(back.b.dtype).toBe("int32");
    for (const k of Object.keys(named) as (keyof typeof named)[]) {
      expect(back[k].shape).toEqual(named[k].shape);
      expect(Array.from(back[k].dataSync())).toEqual(Array.from(named[k].dataSync()));
    }
  });

  it("a ViT restored from its encoded weights computes the same output", async () => {
    const a = new ViT({ imgSize: 8, patchSize: 4, inChans: 3, embedDim: 8, depth: 1, numHeads: 2, mlpRatio: 2 }, { seed: 1 });
    const b = new ViT(a.config, { seed: 2 });
    const { modelJson, data } = await encodeWeights(a.getWeights("base_encoder."));
    b.setWeights(decodeWeights(modelJson, data), "base_encoder.");
    const img = tf.randomNormal([2, 3, 8, 8]) as tf.Tensor4D;
    expect(Array.from(b.forward(img).tokens.dataSync())).toEqual(Array.from(a.forward(img).tokens.dataSync()));
  });

  it("rejects a byte length that does not match the manifest, and foreign JSON", async () => {
    const { modelJson, data } = await encodeWeights({ w: tf.ones([3, 3]) });
    expect(() => decodeWeights(modelJson, data.slice(0, 32))).toThrow(/32 bytes but the manifest describes 36/);
    expect(() => decodeWeights({ format: "layers-model" }, data)).toThrow(/not a dilemma weights file/);
  });
});
