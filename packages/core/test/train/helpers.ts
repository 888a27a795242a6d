// Shared test helpers for the train suites and the train parity runners.
import * as tf from "@tensorflow/tfjs-core";
import { expect } from "vitest";
import { closeness, type FixtureCase } from "../util/fixtures.js";

/** Asserts a tensor matches fixture tensor `name` (shape, then values within `tol` or the case's tolerance). */
export function expectCloseToFixture(c: FixtureCase, name: string, actual: tf.Tensor, tol?: { rtol: number; atol: number }): void {
  const t = tol ?? c.manifest.tolerance ?? { rtol: 1e-5, atol: 1e-7 };
  expect(actual.shape, `${c.name} ${name}: shape`).toEqual(c.shape(name));
  const r = closeness(actual.dataSync(), c.array(name), t);
  expect(r.ok, `${c.name} ${name}: ${r.message}`).toBe(true);
}

/** Number of live tensors, for leak checks. */
export const liveTensors = () => tf.memory().numTensors;
