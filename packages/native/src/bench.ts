/**
 * Training-step benchmark: one full SSL step (MoCo v3 + DILEMMA by default) on fixed random
 * images, the same work ../shared/bench/pytorch_bench.py measures, so the two compare as a
 * ratio of images/s on the same machine.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createMethod, defaultMethodConfig, VIT_PRESETS, type MethodConfig } from "@dilemma/core";
import { useNativeBackend } from "./backend.js";
import { addon } from "./addon.js";
import type { GpuMemory } from "./cuda/addon.js";
import { setMatmulPrecision, useCudaBackend } from "./cuda/index.js";

/** Benchmark presets, named and sized like pytorch_bench.py's CONFIGS. */
export const BENCH_PRESETS: Record<string, { vit: string; batch: number; tokenDrop: number; dilemmaProb: number }> = {
  tiny32: { vit: "tiny32", batch: 64, tokenDrop: 0.75, dilemmaProb: 0.2 },
  "tiny32-dense-baseline": { vit: "tiny32", batch: 64, tokenDrop: 0, dilemmaProb: 0 },
  small32: { vit: "small32", batch: 32, tokenDrop: 0.75, dilemmaProb: 0.2 },
  micro32: { vit: "micro32", batch: 64, tokenDrop: 0.75, dilemmaProb: 0.2 },
  // GPU presets (ViT-S/16, 224 px: L = 196, K = 49), as scripts/torch_cuda_bench.py names them.
  vits16: { vit: "vit-small", batch: 256, tokenDrop: 0.75, dilemmaProb: 0.2 },
  "vits16-dense-baseline": { vit: "vit-small", batch: 256, tokenDrop: 0, dilemmaProb: 0 },
};

/** Matrix-product precision of the `cuda` engine (the other engines are always fp32). */
export type BenchPrecision = "fp32" | "tf32" | "bf16";

export interface BenchTrainStepOptions {
  /** A key of BENCH_PRESETS (default "tiny32"). */
  preset?: string;
  /**
   * tfjs backend to run on: "native" (default), "cuda" (GPU; registered here with
   * `cudaDevice` / `precision`) or any registered backend name, e.g. "cpu".
   */
  engine?: string;
  /** engine "cuda": matrix-product precision (default "fp32"). */
  precision?: BenchPrecision;
  /** engine "cuda": "cuda" (default) or "host" (the CPU reference kernels; for dry runs). */
  cudaDevice?: "cuda" | "host";
  /** Timed steps (default 10). */
  steps?: number;
  /** Untimed warm-up steps (default 2). */
  warmup?: number;
  /** Override the batch size of the preset. */
  batch?: number;
  /**
   * Wall-clock budget (seconds, from the first step): timed steps stop once it is spent, after
   * at least 3 (`steps` is then an upper bound; the result's `steps` says how many ran).
   */
  budgetSeconds?: number;
  /** Called after each step with its seconds (warm-up steps have warmup = true). */
  onStep?: (seconds: number, warmup: boolean) => void;
}

export interface BenchTrainStepResult {
  preset: string;
  engine: string;
  /** Matrix-product precision (fp32 except on the cuda engine). */
  precision: BenchPrecision;
  batch: number;
  steps: number;
  imagesPerSecond: number;
  stepSecondsMedian: number;
  stepSecondsMin: number;
  stepSecondsMax: number;
  /** All timed step durations, seconds. */
  stepSeconds: number[];
  /**
   * Median process CPU time (user + system, all threads) per step, seconds: on a shared,
   * oversubscribed machine this moves far less than wall time.
   */
  cpuSecondsMedian: number;
  /** Loss of the last step (a sanity check that the step did real work). */
  lastLoss: number;
  /** engine "cuda": the device allocator's counters after the timed steps (peak = since start-up). */
  gpuMemory?: GpuMemory;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Method config of a benchmark preset (projector 1024 / 256 as in the reference). */
export function benchMethodConfig(preset: string): MethodConfig {
  const p = BENCH_PRESETS[preset];
  if (p === undefined) throw new Error(`unknown bench preset "${preset}" (${Object.keys(BENCH_PRESETS).join(", ")})`);
  return defaultMethodConfig({
    method: "mocov3",
    vit: VIT_PRESETS[p.vit],
    tokenDrop: p.tokenDrop,
    dilemmaProb: p.dilemmaProb,
    headHidden: 1024,
    headOut: 256,
    optim: { totalSteps: 100000, warmupSteps: 0 },
  });
}

/**
 * Times `steps` full training steps of `preset` on `engine` after `warmup` untimed ones.
 * images/s = batch / median step time (as pytorch_bench.py computes it).
 */
export async function benchTrainStep(opts: BenchTrainStepOptions = {}): Promise<BenchTrainStepResult> {
  const preset = opts.preset ?? "tiny32";
  const engine = opts.engine ?? "native";
  const steps = opts.steps ?? 10;
  const warmup = opts.warmup ?? 2;
  const config = benchMethodConfig(preset);
  const batch = opts.batch ?? BENCH_PRESETS[preset].batch;
  const precision = engine === "cuda" ? opts.precision ?? "fp32" : "fp32";
  if (engine !== "cuda" && opts.precision !== undefined && opts.precision !== "fp32") {
    throw new Error(`precision "${opts.precision}" needs engine "cuda" (engine "${engine}" is fp32 only)`);
  }
  if (engine === "native") await useNativeBackend();
  // Every step ends with one read of its losses (StepResult), which waits for the device's
  // stream: wall time per step is the device time, no extra synchronisation needed.
  else if (engine === "cuda") {
    await useCudaBackend({ device: opts.cudaDevice ?? "cuda", precision });
    setMatmulPrecision(precision); // the backend may already be registered with another precision
  }
  else if (!(await tf.setBackend(engine))) throw new Error(`engine "${engine}" is not a registered tfjs backend`);

  const method = createMethod(config);
  const { imgSize, inChans } = config.vit;
  const views = [0, 1].map((i) => tf.randomNormal([batch, inChans, imgSize, imgSize], 0, 1, "float32", 17 + i) as tf.Tensor4D);
  const rng = { seed: 1, counter: 0 };
  const times: number[] = [];
  const cpu: number[] = [];
  let lastLoss = NaN;
  const tStart = performance.now();
  try {
    for (let s = 0; s < warmup + steps; s++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = method.trainStep(views, s, rng);
      const dt = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      lastLoss = r.loss;
      if (s >= warmup) {
        times.push(dt);
        cpu.push((c.user + c.system) / 1e6);
      }
      opts.onStep?.(dt, s < warmup);
      if (opts.budgetSeconds !== undefined && times.length >= 3 && (performance.now() - tStart) / 1000 > opts.budgetSeconds) break;
    }
  } finally {
    tf.dispose(views);
    method.dispose();
  }
  const gpuMemory = engine === "cuda" ? addon()?.gpu.memory() : undefined;
  const med = median(times);
  return {
    preset, engine, precision, batch, steps: times.length,
    imagesPerSecond: batch / med,
    stepSecondsMedian: med,
    stepSecondsMin: Math.min(...times),
    stepSecondsMax: Math.max(...times),
    stepSeconds: times,
    cpuSecondsMedian: median(cpu),
    lastLoss,
    ...(gpuMemory ? { gpuMemory } : {}),
  };
}
