// `dilemma-cli bench`: throughput of the full MoCo v3 + DILEMMA training step (the same work as
// ../shared/bench/pytorch_bench.py) and a micro-benchmark of the DilemmaEmbed op.
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { dilemmaEmbed, sampleDilemma } from "@dilemma/core";
import { BENCH_DEFAULTS, DEFAULT_ENGINE, type EngineName, type Precision } from "./defaults.js";
import { selectEngine } from "./engine.js";

/**
 * The reference benchmark's presets (names shared with pytorch_bench.py; vits16* are the GPU
 * presets of @dilemma/native's bench and scripts/torch_cuda_bench.py: ViT-S/16, 224 px, batch 256).
 */
export const BENCH_PRESET_NAMES = ["tiny32", "tiny32-dense-baseline", "small32", "vits16", "vits16-dense-baseline"] as const;
export type BenchPreset = (typeof BENCH_PRESET_NAMES)[number];

/** Result of {@link benchTrain}. */
export interface BenchResult {
  preset: BenchPreset; engine: string; engineReason: string; precision: Precision; batch: number;
  imagesPerSecond: number; stepSecondsMedian: number; stepSecondsMin: number; stepSecondsMax: number;
  steps: number; warmup: number; lastLoss: number;
  cpu: string; threads: number; node: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface NativeBench {
  benchTrainStep(o: { preset: string; engine: string; precision?: Precision; steps: number; warmup: number; onStep?: (sec: number, warmup: boolean) => void }):
    Promise<{ batch: number; imagesPerSecond: number; stepSecondsMedian: number; stepSecondsMin: number; stepSecondsMax: number; lastLoss: number }>;
}

/**
 * Times `warmup + steps` full MoCo v3 + DILEMMA training steps on two fixed random views on the
 * selected engine; images/s = batch / median step time after warm-up. The step loop is
 * @dilemma/native's `benchTrainStep` (one implementation for the package and the cli).
 */
export async function benchTrain(o: { preset: BenchPreset; engine?: EngineName; precision?: Precision; steps?: number; warmup?: number; onStep?: (i: number, sec: number) => void }): Promise<BenchResult> {
  const engine = await selectEngine(o.engine ?? DEFAULT_ENGINE, { precision: o.precision });
  let native: NativeBench;
  try {
    native = (await import("@dilemma/native")) as unknown as NativeBench;
  } catch (e) {
    throw new Error(`bench needs @dilemma/native's benchTrainStep (${(e as Error).message}); run npm ci at the repository root`);
  }
  const steps = o.steps ?? BENCH_DEFAULTS.steps, warmup = o.warmup ?? BENCH_DEFAULTS.warmup;
  let i = 0;
  const r = await native.benchTrainStep({
    preset: o.preset, engine: engine.name, ...(engine.name === "cuda" ? { precision: engine.precision } : {}), steps, warmup,
    onStep: (sec) => o.onStep?.(i++, sec),
  });
  return {
    preset: o.preset, engine: engine.name, engineReason: engine.reason, precision: engine.precision, batch: r.batch,
    imagesPerSecond: r.imagesPerSecond, stepSecondsMedian: r.stepSecondsMedian, stepSecondsMin: r.stepSecondsMin, stepSecondsMax: r.stepSecondsMax,
    steps, warmup, lastLoss: r.lastLoss, cpu: os.cpus()[0]?.model ?? "unknown", threads: os.availableParallelism(), node: process.version,
  };
}

/** Micro-benchmark of DilemmaEmbed (forward, and forward + backward) at pytorch_bench's shapes. */
export async function benchEmbed(o: { engine?: EngineName; precision?: Precision; reps?: number } = {}): Promise<{ engine: string; results: { shape: { B: number; L: number; K: number; D: number }; usMedian: { forward: number; forwardBackward: number }; GBps: { forward: number; forwardBackward: number } }[] }> {
  const engine = await selectEngine(o.engine ?? DEFAULT_ENGINE, { precision: o.precision });
  const reps = o.reps ?? BENCH_DEFAULTS.reps;
  const shapes = [{ B: 64, L: 64, K: 16, D: 192 }, { B: 256, L: 196, K: 49, D: 384 }];
  const results = [];
  for (const { B, L, K, D } of shapes) {
    const s = sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - K / L, dilemmaProb: 0.2, rng: { seed: 0, counter: 0 } });
    if (s.numKept !== K) throw new Error(`bench: kept ${s.numKept} tokens, expected ${K}`);
    const x = tf.randomNormal([B, L, D], 0, 1, "float32", 3) as tf.Tensor3D;
    const pos = tf.randomNormal([L, D], 0, 1, "float32", 4) as tf.Tensor2D;
    const real = tf.tensor2d(s.realPos, [B, K], "int32"), inp = tf.tensor2d(s.inputPos, [B, K], "int32");
    const dy = tf.randomNormal([B, K, D], 0, 1, "float32", 5) as tf.Tensor3D;
    const fwd = () => { const y = dilemmaEmbed(x, pos, real, inp); y.dataSync(); y.dispose(); };
    const gradFn = tf.grads((a: tf.Tensor, b: tf.Tensor) => dilemmaEmbed(a as tf.Tensor3D, b as tf.Tensor2D, real, inp));
    const fb = () => { const g = gradFn([x, pos], dy); g.forEach((t) => t.dataSync()); tf.dispose(g); };
    const time = (fn: () => void) => {
      for (let i = 0; i < 3; i++) fn();
      const ts: number[] = [];
      for (let i = 0; i < reps; i++) { const t = process.hrtime.bigint(); fn(); ts.push(Number(process.hrtime.bigint() - t) / 1e3); }
      return median(ts);
    };
    const usF = time(fwd), usFB = time(fb);
    const fwdBytes = 4 * 3 * B * K * D, bwdBytes = 4 * (B * L * D + 2 * B * K * D + L * D);
    results.push({ shape: { B, L, K, D }, usMedian: { forward: usF, forwardBackward: usFB }, GBps: { forward: fwdBytes / usF / 1e3, forwardBackward: (fwdBytes + bwdBytes) / usFB / 1e3 } });
    tf.dispose([x, pos, real, inp, dy]);
  }
  return { engine: engine.name, results };
}
