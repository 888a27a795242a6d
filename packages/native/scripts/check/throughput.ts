// The torch section (scripts/torch_cuda_bench.py, PyTorch eager with bf16 autocast, as a
// subprocess) and the throughput section (bench presets on `cuda`: img/s = batch / median step,
// GPU memory, cpu-fallback calls, which must be 0).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Precision, RunEnv } from "./case.js";
import { fx, log, message, pad, result, section, state, type Json } from "./report.js";

export interface ThroughputPlan { presets: [string, number | undefined][]; precisions: Precision[]; steps: number; warmup: number; budget: number }

/** Presets (with a batch override in quick mode) and per-configuration budget. */
export function throughputPlan(env: RunEnv): ThroughputPlan {
  return env.opts.quick
    ? { presets: [["micro32", 4], ["tiny32-dense-baseline", 4]], precisions: ["bf16"], steps: 2, warmup: 1, budget: 60 }
    : { presets: [["vits16", undefined], ["vits16-dense-baseline", undefined]], precisions: env.opts.throughputPrecisions, steps: 10, warmup: 2, budget: 32 };
}
export const throughputBudget = (env: RunEnv): number => (env.opts.quick ? 400 : 130);

export function torchSection(env: RunEnv): Promise<Json | null> {
  const { opts, tf, G, native: { WHERE }, dev } = env;
  const presets = opts.quick ? ["micro32"] : ["vits16", "vits16-dense-baseline"];
  return section("torch", opts.quick ? 120 : 100, async (budget) => {
    if (!existsSync(opts.torchScript)) throw new Error(`${opts.torchScript} is missing`);
    // give our cached blocks (and the cuda backend's spare buffers) back before PyTorch allocates
    (tf.findBackend("cuda") as { releaseSpareBuffers?: () => void } | null)?.releaseSpareBuffers?.();
    if (dev === WHERE.cuda && G.runtimeInfo().device) G.emptyCache();
    const out = process.env.OUT;
    const pyArgs = [opts.torchScript, ...presets.flatMap((p) => ["--preset", p]), "--device", opts.device === "cuda" ? "cuda" : "cpu",
      "--amp", "bf16", "--steps", opts.quick ? "2" : "10", "--warmup", opts.quick ? "1" : "3", "--budget-s", String(Math.floor((budget - 25) / presets.length)),
      ...(opts.quick ? ["--batch", "4", "--threads", "2"] : []), ...(out ? ["--out", join(out, "torch.json")] : [])];
    log(`${opts.python} ${pyArgs.join(" ")}`);
    const pyEnv = { ...process.env };
    if (pyEnv.DILEMMA_LDPATH_ADDED) { // cuda-check.sh added the toolkit for our cuBLAS; PyTorch has its own
      if (pyEnv.DILEMMA_ORIG_LD_LIBRARY_PATH) pyEnv.LD_LIBRARY_PATH = pyEnv.DILEMMA_ORIG_LD_LIBRARY_PATH;
      else delete pyEnv.LD_LIBRARY_PATH;
    }
    const py = spawnSync(opts.python, pyArgs, { encoding: "utf8", timeout: budget * 1000, maxBuffer: 1 << 26, env: pyEnv });
    const err = (py.stderr ?? "").trim();
    if (err) log(err.split("\n").slice(-8).map((l) => `  | ${l}`).join("\n"));
    const last = (py.stdout ?? "").trim().split("\n").pop() ?? "";
    let j: { env: Record<string, string>; train: Record<string, { preset: string; images_per_s: number; steps_timed: number; batch: number }> } | null = null;
    try { j = JSON.parse(last); } catch { /* reported below */ }
    if (py.status !== 0 || !j || !j.train) throw new Error(`PyTorch run failed (status ${py.status}${py.error ? ", " + py.error.message : ""}): ${last.slice(0, 300)}`);
    state.torch = j;
    log(`PyTorch ${j.env.torch} on ${j.env.gpu ?? j.env.device}: ${Object.values(j.train).map((r) => `${r.preset} ${r.images_per_s.toFixed(1)} img/s (${r.steps_timed} steps, batch ${r.batch})`).join("; ")}`);
    return { torch: j };
  });
}

export function throughputSection(env: RunEnv): Promise<Json | null> {
  const { opts, native } = env;
  const plan = throughputPlan(env);
  return section("throughput", throughputBudget(env), async (budget, t0) => {
    if (typeof native.useCudaBackend !== "function") throw new Error("@dilemma/native's dist has no useCudaBackend (rebuild it and repack)");
    const left = () => budget - (performance.now() - t0) / 1000;
    // cpu s/step: process CPU time per step; close to the median step time means the step is bound
    // by the JS side launching kernels, not by the GPU.
    log(`${"preset".padEnd(22)} ${"prec".padEnd(5)} ${pad("batch", 5)} ${pad("img/s", 8)} ${pad("median s", 9)} ${pad("min s", 7)} ${pad("max s", 7)} ${pad("cpu s", 7)} ${pad("steps", 5)} ${pad("GPU peak GiB", 12)} fallbacks`);
    // bf16 of both presets first (the comparison with PyTorch), then tf32
    for (const precision of plan.precisions) {
      for (const [preset, batch] of plan.presets) {
        if (opts.thrOnly && opts.thrOnly !== `${preset}:${precision}`) continue;
        if (left() < 15) { log(`${preset} ${precision}: SKIPPED (budget spent)`); state.thrResults.push({ preset, precision, skipped: true }); continue; }
        const f0 = { ...native.cudaFallbackCounts() };
        let r;
        try {
          r = await native.benchTrainStep({ preset, engine: "cuda", precision, cudaDevice: opts.device, steps: plan.steps, warmup: plan.warmup,
            budgetSeconds: Math.min(plan.budget, left() - 10), ...(batch ? { batch } : {}) });
        } catch (e) {
          log(`${preset} ${precision}: ERROR ${message(e)}`);
          state.thrResults.push({ preset, precision, error: message(e) });
          if (/fallback/.test(message(e))) result.failures.push(`throughput ${preset} ${precision}: ${message(e)}`);
          continue;
        }
        const f1 = native.cudaFallbackCounts();
        const fallbacks = Object.fromEntries(Object.entries(f1).map(([k, n]) => [k, n - (f0[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
        const peak = r.gpuMemory ? r.gpuMemory.peakAllocatedBytes / 2 ** 30 : null;
        state.thrResults.push({ preset, precision, batch: r.batch, imagesPerSecond: r.imagesPerSecond, stepSecondsMedian: r.stepSecondsMedian,
          stepSecondsMin: r.stepSecondsMin, stepSecondsMax: r.stepSecondsMax, cpuSecondsMedian: r.cpuSecondsMedian, steps: r.steps, stepSeconds: r.stepSeconds, lastLoss: r.lastLoss,
          gpuPeakGiB: peak, gpuMemory: r.gpuMemory ?? null, fallbacks });
        if (Object.keys(fallbacks).length) result.failures.push(`throughput ${preset} ${precision}: cpu fallbacks ${JSON.stringify(fallbacks)}`);
        log(`${preset.padEnd(22)} ${precision.padEnd(5)} ${pad(r.batch, 5)} ${pad(fx(r.imagesPerSecond, 1), 8)} ${pad(fx(r.stepSecondsMedian, 4), 9)} ${pad(fx(r.stepSecondsMin, 4), 7)} ${pad(fx(r.stepSecondsMax, 4), 7)} ${pad(fx(r.cpuSecondsMedian, 3), 7)} ${pad(r.steps, 5)} ${pad(fx(peak, 2), 12)} ${Object.keys(fallbacks).length ? JSON.stringify(fallbacks) : "0"}`);
      }
    }
    if (opts.device === "cuda") log(opts.isolate || opts.child ? "(GPU peak: the allocator's peak in this configuration's own process)" : "(GPU peak: the allocator's peak since start-up, so it includes earlier sections; the first row's is its own)");
    return { rows: state.thrResults };
  });
}
