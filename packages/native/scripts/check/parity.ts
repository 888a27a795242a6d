// The parity section: one full MoCo v3 + DILEMMA step on the `native` CPU engine and on `cuda`
// (fp32, tf32, bf16) from the same weights, images and rng {seed, counter} (so the same DILEMMA
// corruption): losses, per-parameter gradients (from AdamW's first moment, m = (1 - b1) g after
// the first step), BN running statistics and the momentum encoder.
import type { Tensor } from "@tensorflow/tfjs-core";
import type { Precision, RunEnv } from "./case.js";
import { ex, log, result, section, state, type Json } from "./report.js";

/**
 * docs/cuda-engine.md "Tolerances": relative tolerances of the step parity against the native
 * CPU engine. tf32 / bf16 gradients: ~2.5x the worst error of scripts/emulate_precision.py
 * (TF32 7.3e-2 if truncating, bf16 1.9e-1): this step amplifies rounding 40-120x.
 */
export const PARITY_TOL: Record<Precision, { loss: number; grad: number }> = {
  fp32: { loss: 1e-4, grad: 1e-4 },
  tf32: { loss: 2e-3, grad: 0.2 },
  bf16: { loss: 1e-2, grad: 0.4 },
};

interface HostTensor { shape: number[]; values: Float32Array }
type HostTensors = Record<string, HostTensor>;
interface Step {
  init: HostTensors | null;
  result: { loss: number; sslLoss: number; dilemmaLoss: number; lr: number; detection?: unknown };
  m: HostTensors; buffers: HostTensors; weights: HostTensors;
  lr: number; seconds: number; fallbacks: Record<string, number>;
}
interface Err { name: string; rel: number; floored: boolean }
export interface ParityComparison extends Json {
  ok: boolean; lossOk: boolean; gradOk: boolean; bufOk: boolean; fallbackOk: boolean;
  tol: { loss: number; grad: number };
  losses: { name: string; ref: number; got: number; rel: number }[];
  gradGlobalRel: number; gradWorst: (Err & { n: number; diff: number; norm: number })[]; gradOver: number; params: number;
  bufferWorst: Err[]; signFlipFraction: number; fallbacks: Record<string, number>;
}

/** Host copies of a map of tensors. */
function readAll(named: Record<string, Tensor>): HostTensors {
  const out: HostTensors = {};
  for (const [k, t] of Object.entries(named)) out[k] = { shape: t.shape.slice(), values: Float32Array.from(t.dataSync()) };
  return out;
}

/** ‖a-b‖ and ‖b‖. */
function diffNorm(a: Float32Array, b: Float32Array): { diff: number; norm: number } {
  let d = 0, n = 0;
  for (let i = 0; i < b.length; i++) { const x = a[i] - b[i]; d += x * x; n += b[i] * b[i]; }
  return { diff: Math.sqrt(d), norm: Math.sqrt(n) };
}

/** Positive counts of `after - before` (calls that fell back to the CPU during a step). */
function fallbackDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
}

export function compareSteps(ref: Step, got: Step, tol: { loss: number; grad: number }): ParityComparison {
  const losses = (["loss", "sslLoss", "dilemmaLoss"] as const).map((k) => {
    const a = got.result[k], b = ref.result[k];
    return { name: k, ref: b, got: a, rel: Math.abs(a - b) / Math.max(Math.abs(b), 1e-12) };
  });
  // Gradients g = m / (1 - b1) (AdamW's first moment after its first step). A parameter whose
  // gradient is tiny compared with the model's (e.g. the key bias of attention, exactly 0 in
  // exact arithmetic: softmax is shift-invariant) is judged against 1% of its share of the
  // global gradient norm, so rounding noise around 0 does not read as a 100% error.
  let gDiff2 = 0, gNorm2 = 0, total = 0;
  const per = Object.keys(ref.m).map((k) => {
    const e = diffNorm(got.m[k].values, ref.m[k].values);
    gDiff2 += e.diff ** 2; gNorm2 += e.norm ** 2; total += ref.m[k].values.length;
    return { name: k, n: ref.m[k].values.length, ...e, rel: 0, floored: false };
  });
  const gNorm = Math.sqrt(gNorm2);
  for (const p of per) {
    const floor = 0.01 * gNorm * Math.sqrt(p.n / total);
    p.rel = p.diff / Math.max(p.norm, floor, 1e-30);
    p.floored = p.norm < floor;
  }
  per.sort((a, b) => b.rel - a.rel);
  // Buffers (momentum encoder after the EMA, BatchNorm running statistics): relative, but a
  // buffer that is ~0 by construction (predictor.1.running_mean: the batch mean of a linear map
  // of the projector's output, which its last BatchNorm centres exactly) is judged against an
  // RMS of 1e-3 per element instead of its own rounding noise.
  const bufs = Object.keys(ref.buffers).map((k) => {
    const e = diffNorm(got.buffers[k].values, ref.buffers[k].values);
    const floor = 1e-3 * Math.sqrt(ref.buffers[k].values.length);
    return { name: k, rel: e.diff / Math.max(e.norm, floor), floored: e.norm < floor };
  }).sort((a, b) => b.rel - a.rel);
  // Weights after the step: AdamW's first update is ~lr·sign(g), so weights differ by ~2·lr
  // exactly where the two gradients' signs differ (tiny gradients): reported, not judged.
  let flips = 0, nw = 0;
  for (const k of Object.keys(ref.weights)) {
    const a = got.weights[k].values, b = ref.weights[k].values;
    for (let i = 0; i < b.length; i++) if (Math.abs(a[i] - b[i]) > ref.lr) flips++;
    nw += b.length;
  }
  const gradOk = per.every((p) => p.rel <= tol.grad);
  const lossOk = losses.every((l) => l.rel <= tol.loss);
  const bufOk = bufs.every((b) => b.rel <= tol.grad);
  const fallbackOk = Object.keys(got.fallbacks).length === 0;
  return {
    ok: gradOk && lossOk && bufOk && fallbackOk, lossOk, gradOk, bufOk, fallbackOk, tol, losses,
    gradGlobalRel: Math.sqrt(gDiff2) / Math.max(gNorm, 1e-30), gradWorst: per.slice(0, 5), gradOver: per.filter((p) => p.rel > tol.grad).length,
    params: per.length, bufferWorst: bufs.slice(0, 3), signFlipFraction: flips / Math.max(1, nw), fallbacks: got.fallbacks,
    detection: { ref: ref.result.detection ?? null, got: got.result.detection ?? null },
  };
}

export function paritySection(env: RunEnv): Promise<Json | null> {
  const { opts, tf, native, core } = env;
  const P = opts.parity;
  const hasCudaBackend = typeof native.useCudaBackend === "function";
  const parityConfig = () => core.defaultMethodConfig({
    method: "mocov3", vit: core.VIT_PRESETS[P.vit], tokenDrop: 0.75, dilemmaProb: 0.2,
    headHidden: 1024, headOut: 256, optim: { totalSteps: 1000, warmupSteps: 0 },
  });

  /** One training step on the active backend from weights `w0` (null: its own init, returned). */
  function stepOnActiveBackend(w0: HostTensors | null, views: HostTensor[], rngSeed: number): Step {
    const method = core.createMethod(parityConfig());
    try {
      if (w0) {
        const ts = Object.fromEntries(Object.entries(w0).map(([k, v]) => [k, tf.tensor(v.values, v.shape, "float32")]));
        method.setWeights(ts);
        tf.dispose(Object.values(ts));
      }
      const init = w0 ? null : readAll(method.getWeights());
      const xs = views.map((v) => tf.tensor4d(v.values, v.shape as [number, number, number, number], "float32"));
      const f0 = hasCudaBackend ? { ...native.cudaFallbackCounts() } : {};
      const t0 = performance.now();
      const r = method.trainStep(xs, 0, { seed: rngSeed, counter: 0 });
      const seconds = (performance.now() - t0) / 1000;
      const f1 = hasCudaBackend ? native.cudaFallbackCounts() : {};
      tf.dispose(xs);
      const m: HostTensors = {}, buffers: HostTensors = {}, weights: HostTensors = {};
      for (const [k, v] of Object.entries(readAll(method.getOptimizerState().tensors))) if (k.startsWith("exp_avg/")) m[k.slice(8)] = v;
      for (const [k, v] of Object.entries(readAll(method.getWeights()))) (k in m ? weights : buffers)[k] = v;
      return { init, result: r, m, buffers, weights, lr: r.lr, seconds, fallbacks: fallbackDelta(f0, f1) };
    } finally {
      method.dispose();
    }
  }

  return section("parity", opts.quick ? 400 : 90, async (budget, t0) => {
    if (!hasCudaBackend) throw new Error("@dilemma/native's dist has no useCudaBackend (rebuild it and repack)");
    const left = () => budget - (performance.now() - t0) / 1000;
    const cfg = parityConfig();
    const { imgSize, inChans } = cfg.vit;
    log(`MoCo v3 + DILEMMA, ViT ${P.vit} (${imgSize} px, patch ${cfg.vit.patchSize}, D ${cfg.vit.embedDim}, depth ${cfg.vit.depth}), batch ${P.batch}, drop 0.75, p 0.2, projector 1024/256; one step from the same weights, images and rng`);
    await native.useNativeBackend();
    const views = [17, 18].map((seed) => {
      const t = tf.randomNormal([P.batch, inChans, imgSize, imgSize], 0, 1, "float32", seed);
      const v = { shape: t.shape.slice(), values: Float32Array.from(t.dataSync()) };
      t.dispose();
      return v;
    });
    // Weights: the native engine's initialisation (read before its step), set on every cuda run.
    const ref = stepOnActiveBackend(null, views, 5);
    const w0 = ref.init;
    log(`native (CPU) step: ${ref.seconds.toFixed(2)} s, loss ${ref.result.loss.toFixed(6)} (ssl ${ref.result.sslLoss.toFixed(6)}, dilemma ${ref.result.dilemmaLoss.toFixed(6)})`);
    const rows: Json[] = [];
    let floor: ParityComparison | null = null;
    if (P.floor) {
      await tf.setBackend("cpu");
      (tf.backend() as unknown as { firstUse: boolean }).firstUse = false; // no "install tfjs-node" banner
      floor = compareSteps(ref, stepOnActiveBackend(w0, views, 5), PARITY_TOL.fp32);
      log(`fp32 noise floor, tfjs cpu vs native (both fp32 CPU engines): losses ${floor.losses.map((l) => ex(l.rel)).join(", ")}; gradients global ${ex(floor.gradGlobalRel)}, worst ${floor.gradWorst[0].name} ${ex(floor.gradWorst[0].rel)}`);
    }
    for (const p of P.precisions) {
      if (left() < 10) { log(`parity ${p}: SKIPPED (budget spent)`); rows.push({ precision: p, skipped: true }); continue; }
      await native.useCudaBackend({ device: opts.device, precision: p });
      native.setMatmulPrecision(p);
      const got = stepOnActiveBackend(w0, views, 5);
      const tol = PARITY_TOL[p];
      const c = compareSteps(ref, got, tol);
      state.parityResults[p] = c;
      rows.push({ precision: p, seconds: got.seconds, ...c });
      log(`cuda/${p} (${opts.device}) step ${got.seconds.toFixed(2)} s: ${c.ok ? "PASS" : "FAIL"}`);
      log(`  losses rel err ${c.losses.map((l) => `${l.name} ${ex(l.rel)}`).join(", ")} (tol ${ex(tol.loss)})${c.lossOk ? "" : "  <-- over"}`);
      log(`  gradients: global ${ex(c.gradGlobalRel)}, worst of ${c.params} params ${c.gradWorst.slice(0, 3).map((g) => `${g.name} ${ex(g.rel)}${g.floored ? "*" : ""}`).join(", ")} (tol ${ex(tol.grad)}; ${c.gradOver} over)`);
      log(`  buffers (momentum encoder, BN statistics): worst ${c.bufferWorst.map((b) => `${b.name} ${ex(b.rel)}${b.floored ? "*" : ""}`).join(", ")}; weights differing by > lr (AdamW sign flips): ${(100 * c.signFlipFraction).toFixed(3)}%`);
      if (!c.fallbackOk) log(`  cpu fallbacks during the step: ${JSON.stringify(c.fallbacks)}`);
      if (!c.ok) result.failures.push(`parity ${p}: ${c.lossOk ? "" : "losses "}${c.gradOk ? "" : "gradients "}${c.bufOk ? "" : "buffers "}${c.fallbackOk ? "" : "fallbacks"}`.trim());
    }
    log("(* = ~0 by construction, so judged against a floor: a gradient against 1% of its share of the global gradient norm, a buffer against an RMS of 1e-3)");
    await native.useNativeBackend();
    return { vit: P.vit, batch: P.batch, refSeconds: ref.seconds, refLosses: ref.result, floor, rows };
  });
}
