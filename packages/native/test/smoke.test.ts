import { expect, it } from "vitest";
import { info, isAvailable, loadError } from "../src/index.js";

it("reports availability and, when loaded, its build info", () => {
  if (!isAvailable()) {
    expect(loadError()).toMatch(/addon|DILEMMA_NATIVE/);
    return;
  }
  expect(loadError()).toBeNull();
  const i = info();
  expect(i.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(["openblas", "openblas-static", "accelerate", "builtin"]).toContain(i.blas);
  expect(i.threads).toBeGreaterThanOrEqual(1);
  expect(typeof i.cuda.compiled).toBe("boolean");
  expect(i.cuda.devices).toBeGreaterThanOrEqual(0);
  if (i.cuda.compiled) expect(i.cuda.archs).toMatch(/80/);
});

it("runs the suites (core's included) on the native backend when the addon loads", async () => {
  const tf = await import("@tensorflow/tfjs-core");
  if (!isAvailable()) return;
  expect(process.env.DILEMMA_TEST_BACKEND).toBe("native");
  expect(tf.getBackend()).toBe("native"); // set by core's test/setup.ts from the env above
});
