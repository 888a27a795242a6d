// Every core test runs on the backend named by DILEMMA_TEST_BACKEND (default "cpu"), so the
// same suites verify other engines (packages/native runs them with its own setup).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll } from "vitest";
import "../src/index.js";

beforeAll(async () => {
  const name = process.env.DILEMMA_TEST_BACKEND ?? "cpu";
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`test backend "${name}" is not available`);
  }
});
