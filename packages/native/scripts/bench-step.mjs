#!/usr/bin/env node
/* global process, console */
// Training-step throughput of @dilemma/native (and optionally tfjs cpu and PyTorch) side by side.
//   node scripts/bench-step.mjs [--preset tiny32] [--steps 10] [--warmup 2] [--engines native,cpu] [--torch]
//   node scripts/bench-step.mjs --preset vits16 --engine cuda --precision bf16 [--cuda-device host]
// (--engine is --engines with one name; --precision fp32|tf32|bf16 applies to cuda only.)
// --torch runs ../shared/bench/pytorch_bench.py (beside the repository; with --engine cuda:
// scripts/torch_cuda_bench.py on the GPU) (or $DILEMMA_TORCH_BENCH) right after, on the same
// machine, and prints the ratio. Build first: npm run build -w @dilemma/native.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchTrainStep } from "../dist/index.js";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const preset = opt("preset", "tiny32");
const steps = Number(opt("steps", "10"));
const warmup = Number(opt("warmup", "2"));
const engines = opt("engines", opt("engine", "native")).split(",");
const precision = opt("precision", undefined);
const cudaDevice = opt("cuda-device", undefined);
const results = [];
for (const engine of engines) {
  const r = await benchTrainStep({ preset, engine, steps, warmup, ...(engine === "cuda" ? { precision, cudaDevice } : {}) });
  const name = engine === "cuda" ? `cuda/${r.precision}` : engine;
  results.push({ engine: name, imagesPerSecond: r.imagesPerSecond, stepSecondsMedian: r.stepSecondsMedian, min: r.stepSecondsMin, max: r.stepSecondsMax, loss: r.lastLoss });
  const mem = r.gpuMemory ? `, GPU peak ${(r.gpuMemory.peakAllocatedBytes / 2 ** 30).toFixed(2)} GiB` : "";
  console.log(`${preset} ${name}: ${r.imagesPerSecond.toFixed(1)} img/s (median step ${r.stepSecondsMedian.toFixed(3)} s, min ${r.stepSecondsMin.toFixed(3)}, max ${r.stepSecondsMax.toFixed(3)}, cpu ${r.cpuSecondsMedian.toFixed(2)} s/step, batch ${r.batch}, loss ${r.lastLoss.toFixed(4)}${mem})`);
}
if (args.includes("--torch")) {
  // With a cuda engine the reference is PyTorch on the GPU (bf16 autocast, scripts/torch_cuda_bench.py).
  const gpu = engines.includes("cuda");
  const script = process.env.DILEMMA_TORCH_BENCH ?? fileURLToPath(new URL(gpu ? "./torch_cuda_bench.py" : "../../../../shared/bench/pytorch_bench.py", import.meta.url));
  if (!existsSync(script)) {
    console.log(`PyTorch reference not found at ${script}; set DILEMMA_TORCH_BENCH`);
  } else {
    const pyArgs = gpu ? [script, "--preset", preset, "--steps", String(steps)] : [script, "--config", preset, "--steps", String(steps), "--no-micro"];
    const py = spawnSync(process.env.DILEMMA_PYTHON ?? (gpu ? "python3" : "/usr/bin/python3"), pyArgs, { encoding: "utf8" });
    const text = py.stdout ?? "";
    const m = text.match(/"images_per_s(?:ec(?:ond)?)?"\s*:\s*([0-9.]+)/);
    if (py.status !== 0 || !m) {
      console.log(`PyTorch bench failed (status ${py.status}): ${(py.stderr ?? "").slice(-500)}\n${text.slice(-500)}`);
    } else {
      const torch = Number(m[1]);
      console.log(`${preset} pytorch: ${torch.toFixed(1)} img/s`);
      for (const r of results) console.log(`ratio ${r.engine}/pytorch = ${(r.imagesPerSecond / torch).toFixed(2)}x`);
    }
  }
}
