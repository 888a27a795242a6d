// benchTrainStep's presets and engine options (the step loop itself is exercised by the
// benchmarks; here one tiny step on the cuda backend over the host device, when the addon has it).
import * as tf from "@tensorflow/tfjs-core";
import { expect, it } from "vitest";
import { addon } from "../src/addon.js";
import { BENCH_PRESETS, benchMethodConfig, benchTrainStep } from "../src/bench.js";
import { useNativeBackend } from "../src/backend.js";

it("has the GPU presets of torch_cuda_bench.py: ViT-S/16 at 224 px, batch 256", () => {
  expect(BENCH_PRESETS.vits16).toEqual({ vit: "vit-small", batch: 256, tokenDrop: 0.75, dilemmaProb: 0.2 });
  expect(BENCH_PRESETS["vits16-dense-baseline"]).toEqual({ vit: "vit-small", batch: 256, tokenDrop: 0, dilemmaProb: 0 });
  const c = benchMethodConfig("vits16");
  expect([c.vit.imgSize, c.vit.patchSize, c.vit.embedDim, c.vit.depth, c.vit.numHeads]).toEqual([224, 16, 384, 12, 6]);
  expect([c.headHidden, c.headOut]).toEqual([1024, 256]);
});

it("rejects a reduced precision on an fp32-only engine before doing any work", async () => {
  await expect(benchTrainStep({ preset: "micro32", engine: "native", precision: "bf16" })).rejects.toThrow(/needs engine "cuda"/);
});

it("runs a step on engine cuda over the host device and reports the device memory", async () => {
  if (typeof addon()?.gpu?.alloc !== "function") return;
  try {
    const r = await benchTrainStep({ preset: "micro32", engine: "cuda", cudaDevice: "host", precision: "bf16", batch: 2, steps: 1, warmup: 0 });
    expect(r).toMatchObject({ engine: "cuda", precision: "bf16", batch: 2, steps: 1 });
    expect(Number.isFinite(r.lastLoss)).toBe(true);
    expect(r.gpuMemory?.peakAllocatedBytes).toBeGreaterThan(0);
    expect(tf.getBackend()).toBe("cuda");
  } finally {
    await useNativeBackend();
  }
});
