#!/usr/bin/env node
/* global process, console, URL */
// Training-step throughput of @dilemma/native (and optionally tfjs cpu and PyTorch) side by side.
//   node scripts/bench-step.mjs [--preset tiny32] [--steps 10] [--warmup 2] [--engines native,cpu] [--torch] [--rounds 3]
//   node scripts/bench-step.mjs --preset vits16 --engine cuda --precision bf16 [--cuda-device host]
// (--engine is --engines with one name; --precision fp32|tf32|bf16 applies to cuda only.)
// --torch runs ../shared/bench/pytorch_bench.py (beside the repository; with --engine cuda:
// scripts/torch_cuda_bench.py on the GPU) (or $DILEMMA_TORCH_BENCH) on the same machine and
// prints the ratio. --rounds N (with --torch) alternates N rounds of ours and PyTorch (the order
// flips every round, so neither always runs first), each with the load average before it, then
// the median ratio: ratios are only comparable side by side. Build first: npm run build -w @dilemma/native.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
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
const withTorch = args.includes("--torch");
const rounds = Number(opt("rounds", "1"));
if (!(Number.isInteger(rounds) && rounds >= 1)) {
  console.error(`--rounds must be a positive integer, got ${opt("rounds")}`);
  process.exit(2);
}
const load = () => loadavg().map((l) => l.toFixed(1)).join(" ");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function runOurs() {
  const out = [];
  for (const engine of engines) {
    const r = await benchTrainStep({ preset, engine, steps, warmup, ...(engine === "cuda" ? { precision, cudaDevice } : {}) });
    const name = engine === "cuda" ? `cuda/${r.precision}` : engine;
    out.push({ engine: name, imagesPerSecond: r.imagesPerSecond });
    const mem = r.gpuMemory ? `, GPU peak ${(r.gpuMemory.peakAllocatedBytes / 2 ** 30).toFixed(2)} GiB` : "";
    console.log(`${preset} ${name}: ${r.imagesPerSecond.toFixed(1)} img/s (median step ${r.stepSecondsMedian.toFixed(3)} s, min ${r.stepSecondsMin.toFixed(3)}, max ${r.stepSecondsMax.toFixed(3)}, cpu ${r.cpuSecondsMedian.toFixed(2)} s/step, batch ${r.batch}, loss ${r.lastLoss.toFixed(4)}${mem})`);
  }
  return out;
}

// With a cuda engine the reference is PyTorch on the GPU (bf16 autocast, scripts/torch_cuda_bench.py).
const gpu = engines.includes("cuda");
const script = process.env.DILEMMA_TORCH_BENCH ?? fileURLToPath(new URL(gpu ? "./torch_cuda_bench.py" : "../../../../shared/bench/pytorch_bench.py", import.meta.url));
function runTorch() {
  const pyArgs = gpu ? [script, "--preset", preset, "--steps", String(steps)] : [script, "--config", preset, "--steps", String(steps), "--no-micro"];
  const py = spawnSync(process.env.DILEMMA_PYTHON ?? (gpu ? "python3" : "/usr/bin/python3"), pyArgs, { encoding: "utf8" });
  const text = py.stdout ?? "";
  const m = text.match(/"images_per_s(?:ec(?:ond)?)?"\s*:\s*([0-9.]+)/);
  if (py.status !== 0 || !m) {
    console.log(`PyTorch bench failed (status ${py.status}): ${(py.stderr ?? "").slice(-500)}\n${text.slice(-500)}`);
    return null;
  }
  const torch = Number(m[1]);
  console.log(`${preset} pytorch: ${torch.toFixed(1)} img/s`);
  return torch;
}

if (!withTorch) {
  for (let r = 0; r < rounds; r++) await runOurs();
} else if (!existsSync(script)) {
  await runOurs();
  console.log(`PyTorch reference not found at ${script}; set DILEMMA_TORCH_BENCH`);
} else {
  const table = [];
  for (let r = 1; r <= rounds; r++) {
    console.log(`-- round ${r}/${rounds} (load average ${load()}, ${new Date().toISOString()})`);
    let ours, torch;
    if (r % 2 === 1) {
      ours = await runOurs();
      torch = runTorch();
    } else {
      torch = runTorch();
      ours = await runOurs();
    }
    if (torch === null) continue;
    for (const o of ours) {
      const ratio = o.imagesPerSecond / torch;
      table.push({ round: r, engine: o.engine, ours: o.imagesPerSecond, torch, ratio });
      console.log(`ratio ${o.engine}/pytorch = ${ratio.toFixed(2)}x`);
    }
  }
  if (rounds > 1) {
    console.log(`== ${preset}, ${rounds} alternating rounds of ${steps} steps (load average now ${load()})`);
    for (const e of [...new Set(table.map((t) => t.engine))]) {
      const rows = table.filter((t) => t.engine === e);
      console.log(`   ${e}: rounds ${rows.map((t) => `${t.ours.toFixed(1)}/${t.torch.toFixed(1)}=${t.ratio.toFixed(2)}x`).join(", ")}`);
      console.log(`   ${e}: median ${median(rows.map((t) => t.ours)).toFixed(1)} img/s vs PyTorch ${median(rows.map((t) => t.torch)).toFixed(1)} img/s; median ratio ${median(rows.map((t) => t.ratio)).toFixed(2)}x`);
    }
  }
}
