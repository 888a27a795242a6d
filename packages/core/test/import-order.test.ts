// The built package must work whatever the importer loads first: a consumer that imports
// @dilemma/core before @tensorflow/tfjs-core once got a broken engine (every step failed).
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

it("dist trains a step when imported before tfjs-core", () => {
  const script = `
    import * as core from "@dilemma/core";
    import * as tf from "@tensorflow/tfjs-core";
    import "@tensorflow/tfjs-backend-cpu";
    await tf.setBackend("cpu");
    const m = core.createMethod(core.defaultMethodConfig({
      vit: { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2 },
      headHidden: 16, headOut: 8 }));
    const x = [tf.randomNormal([4, 3, 16, 16]), tf.randomNormal([4, 3, 16, 16])];
    console.log(JSON.stringify({ loss: m.trainStep(x, 0, { seed: 1, counter: 0 }).loss }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: pkgDir, encoding: "utf8" });
  const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop()!;
  expect(Number.isFinite(JSON.parse(line).loss)).toBe(true);
});
