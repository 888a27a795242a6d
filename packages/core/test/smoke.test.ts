import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import "../src/index.js";

describe("gradients", () => {
  it("are registered", () => {
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.square(a)))(tf.tensor([1, 2, 3]));
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
  });
});
