// Parity: SimCLR NT-Xent loss and its input gradient (fixture kind "simclr").
import * as tf from "@tensorflow/tfjs-core";
import { ntXentLoss } from "../../src/train/losses.js";
import { expectCloseToFixture } from "../train/helpers.js";
import type { FixtureCase } from "../util/fixtures.js";
import { registerKind } from "./index.js";

function runSimclr(c: FixtureCase): void {
  const z = c.tensor("input/z") as tf.Tensor2D;
  const T: number = c.manifest.config.temperature;
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => ntXentLoss(x as tf.Tensor2D, T))(z);
  expectCloseToFixture(c, "expected/loss", value);
  expectCloseToFixture(c, "grad/input/z", grad);
  tf.dispose([z, value, grad]);
}

export function register(): void {
  registerKind("simclr", runSimclr);
}
