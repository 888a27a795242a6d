// Device check of the `cuda` engine (docs/cuda-engine.md), one command on a GPU machine:
// bundled by cuda-check.sh (esbuild: tfjs-core, tfjs-backend-cpu, @dilemma/core and
// @dilemma/native's dist in one file; there is no node_modules on the device).
//
//   node cuda-check.mjs [--device cuda|host] [--quick] [--only FAMILY|CASE[,...]] [--addon PATH]
//        [--torch-script PATH] [--python python3] [--budget SECONDS]
//        [--sections info,kernels,embed-atomic,parity,torch,throughput]
//        [--no-strict] [--no-torch] [--batch 256] [--validate-batch 64] [--validate-batch-matmul 16]
//        [--reps 20] [--parity-vit vit-small] [--parity-batch 16] [--parity-precisions fp32,tf32,bf16]
//        [--parity-floor] [--throughput-precisions bf16,tf32] [--no-isolate | --isolate] [--time-on-host]
// --only runs the kernel cases of one op family (families/*.ts: unary, binary, reduce, softmax,
// transpose, matmul, gelu, layernorm, fused, embed, optim, batchnorm) or named cases ("softmax 50", "cast"),
// and only the info and kernel sections unless --sections says otherwise.
// On a GPU each device section runs in a child process of this script (--child; see
// orchestrate()); --isolate does that on the host device too (CUDA_CHECK_TEST_KILL=<kernel>
// kills the kernels child at that case, to try the restart).
//
// Sections (each timed and bounded; skipped with a note once its budget or the total is spent):
//  info        device, cuBLAS, addon build (here)
//  kernels     kernels.ts + families/*.ts
//  embed-atomic embed_atomic.ts (the addon's cudaDilemmaCheck: atomic embed backward, bounds flag,
//              copy bandwidth; CUDA only, one skip line on the host device)
//  parity      parity.ts
//  torch       throughput.ts (PyTorch subprocess)
//  throughput  throughput.ts
// Then a table: ours vs PyTorch, the H200 anchors (anchors.ts) and the targets, parity PASS/FAIL.
// Exit: 0 every correctness check passed, 1 a kernel, embed-atomic or the step parity failed, 2 no device.
import * as tf from "@tensorflow/tfjs-core"; // before @dilemma/core (see src/backend.ts)
import { spawnSync } from "node:child_process";
import { readFileSync, unlinkSync } from "node:fs";
import * as os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { THROUGHPUT_ANCHORS, THROUGHPUT_TARGET } from "./anchors.js";
import type { CoreModule, NativeModule, RunEnv } from "./case.js";
import { EMBED_ATOMIC, embedAtomicSection, embedAtomicSummary } from "./embed_atomic.js";
import { kernelsSection } from "./kernels.js";
import { parseOptions, SECTION_NAMES, type Options } from "./options.js";
import { paritySection, type ParityComparison } from "./parity.js";
import { ex, elapsed, finish, finishChild, fx, initReport, log, message, pad, result, save, section, state, type Json } from "./report.js";
import { throughputBudget, throughputPlan, throughputSection, torchSection } from "./throughput.js";

const self = fileURLToPath(import.meta.url);
let opts: Options;
try {
  opts = parseOptions(process.argv.slice(2), dirname(self));
} catch (e) {
  console.error(`cuda-check: ${message(e)}`);
  process.exit(2);
}
initReport(opts);
if (opts.addon) process.env.DILEMMA_ADDON = resolve(opts.addon);
// Fallbacks are errors (a training step must use none); counted as well, in case this is off.
if (opts.strict) process.env.DILEMMA_CUDA_STRICT = "1";
else delete process.env.DILEMMA_CUDA_STRICT;

let native: NativeModule, core: CoreModule;
try {
  await import("@tensorflow/tfjs-backend-cpu");
  core = await import("@dilemma/core");
  native = await import("@dilemma/native");
} catch (e) {
  log(`cuda-check: cannot load the bundled modules: ${e instanceof Error ? e.stack : e}`);
  finish(2);
}
tf.enableProdMode();
const A = native.addon();
if (A === null) {
  log(`cuda-check: the addon did not load: ${native.loadError()}`);
  finish(2);
}
const env: RunEnv = { opts, tf, native, core, G: A.gpu, dev: opts.device === "cuda" ? native.WHERE.cuda : native.WHERE.host };

function infoSection(): Promise<Json | null> {
  const G = env.G;
  return section("info", 30, async () => {
    const info = A!.info();
    log(`addon ${process.env.DILEMMA_ADDON ?? "(package build)"}: version ${info.version}, BLAS ${info.blas}, ${info.threads} threads, DILEMMA kernels ${info.dilemmaKernels}`);
    log(`  CUDA compiled=${info.cuda.compiled} archs=${info.cuda.archs} runtime=${info.cuda.runtimeVersion} devices=${info.cuda.devices}; cuBLAS ${info.cuda.cublas.available ? info.cuda.cublas.library : "not found: " + info.cuda.cublas.error}`);
    log(`  node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, check mode: device ${opts.device}${opts.quick ? " (quick)" : ""}, strict ${process.env.DILEMMA_CUDA_STRICT === "1"}`);
    if (typeof G?.alloc !== "function") {
      log("cuda-check: this addon has no gpu runtime (addon().gpu); rebuild it from this checkout");
      finish(2);
    }
    if (typeof native.useCudaBackend !== "function") log("cuda-check: WARNING @dilemma/native's dist has no useCudaBackend: parity and throughput cannot run (npm run build -w @dilemma/native, then repack)");
    if (opts.device !== "cuda") {
      result.deviceName = "host (CPU reference kernels)";
      return { info, runtime: null };
    }
    if (!info.cuda.compiled || info.cuda.devices < 1) {
      log(`cuda-check: no CUDA device (compiled=${info.cuda.compiled}, devices=${info.cuda.devices})`);
      result.sections.info = { info, error: "no CUDA device" };
      finish(2);
    }
    try {
      G.init(0);
    } catch (e) {
      log(`cuda-check: init(0) failed: ${message(e)}`);
      result.sections.info = { info, error: message(e) };
      finish(2);
    }
    const rt = G.runtimeInfo();
    const d = rt.device;
    log(`  device ${d?.name} (sm_${d?.computeCapability?.replace(".", "")}), ${fx((d?.totalMemoryBytes ?? 0) / 2 ** 30, 1)} GiB; cuBLAS ${rt.cublas?.version ?? "?"} (${rt.cublas?.library ?? "?"})`);
    result.deviceName = d?.name ?? null;
    return { info, runtime: rt };
  });
}

const RUN: Record<string, () => Promise<Json | null>> = {
  info: infoSection, kernels: () => kernelsSection(env), [EMBED_ATOMIC]: () => embedAtomicSection(env), parity: () => paritySection(env),
  ...(opts.noTorch ? {} : { torch: () => torchSection(env) }), throughput: () => throughputSection(env),
};

// ---------------------------------------------------------------- orchestration
// On a GPU each section that touches the device runs in its own child process (--child): a
// kernel that faults leaves its CUDA context unusable, which must not take the other sections
// (or the other kernels: the kernels child restarts after the failing case) with it. PyTorch is
// a subprocess anyway and runs from here.
interface ChildOut extends Json {
  sections?: Record<string, Json>; failures?: string[]; deviceName?: string | null;
  kernelResults?: Json[]; parityResults?: Record<string, ParityComparison>; thrResults?: Json[];
  kernelNext?: number; kernelCount?: number; kernelCurrent?: string; exitReason?: string;
}
/** A child is killed after its section's budget + 40 s (a hung kernel must not eat the run). */
const CHILD_LIMIT_S: Record<string, number> = {
  info: 30, kernels: opts.quick ? 300 : 75, [EMBED_ATOMIC]: 45, parity: opts.quick ? 400 : 90, throughput: opts.quick ? 400 : throughputPlan(env).budget + 30,
};
function childRun(name: string, extra: string[] = []) {
  const file = join(os.tmpdir(), `cuda-check-${process.pid}-${name}-${Date.now()}.json`);
  const left = Math.max(5, Math.floor(opts.budget - elapsed()));
  const args = opts.argv;
  const childArgs = [...args.filter((a, i) => !["--sections", "--budget"].includes(a) && !["--sections", "--budget"].includes(args[i - 1])),
    "--sections", name, "--budget", String(left), "--child", "--child-out", file, ...extra];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [self, ...childArgs], {
    encoding: "utf8", maxBuffer: 1 << 28, timeout: (Math.min(left, CHILD_LIMIT_S[name] ?? left) + 40) * 1000, env: process.env,
  });
  for (const l of `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")) if (l !== "" && !l.startsWith("logs: ")) log(l);
  let out: ChildOut | null = null;
  try { out = JSON.parse(readFileSync(file, "utf8")) as ChildOut; } catch { /* crashed before writing */ }
  try { unlinkSync(file); } catch { /* absent */ }
  const why = r.signal ? `signal ${r.signal}` : r.error ? r.error.message : `exit ${r.status}`;
  return { status: r.status, crashed: r.status !== 0 || r.signal !== null, why, out, seconds: (performance.now() - t0) / 1000 };
}
function merge(name: string, o: ChildOut | null) {
  if (!o) return;
  if (o.sections?.[name]) result.sections[name] = { ...(result.sections[name] ?? {}), ...o.sections[name] };
  if (o.deviceName) result.deviceName = o.deviceName;
  result.failures.push(...(o.failures ?? []));
  state.kernelResults.push(...(o.kernelResults ?? []));
  Object.assign(state.parityResults, o.parityResults ?? {});
  state.thrResults.push(...(o.thrResults ?? []));
}
/** Throughput: one process per configuration, so a crash costs one row. */
function throughputChildren() {
  const t0 = elapsed(), plan = throughputPlan(env);
  for (const precision of plan.precisions) {
    for (const [preset] of plan.presets) {
      if (elapsed() - t0 > throughputBudget(env) - 15 || opts.budget - elapsed() < 20) {
        log(`${preset} ${precision}: SKIPPED (throughput budget spent)`);
        state.thrResults.push({ preset, precision, skipped: true });
        continue;
      }
      const c = childRun("throughput", ["--thr-only", `${preset}:${precision}`]);
      merge("throughput", c.out);
      if (c.crashed) {
        log(`throughput ${preset} ${precision}: child process ended abnormally (${c.why})`);
        result.failures.push(`throughput ${preset} ${precision}: process ended abnormally (${c.why})`);
        if (!state.thrResults.some((r) => r.preset === preset && r.precision === precision)) state.thrResults.push({ preset, precision, error: c.why });
      }
    }
  }
}
/** One section in a child; the kernels restart after a case that broke the CUDA context (or crashed the process). */
function sectionChildren(name: string) {
  let from = 0;
  for (let attempt = 0; attempt < 6; attempt++) {
    const c = childRun(name, name === "kernels" ? ["--kernel-from", String(from)] : []);
    merge(name, c.out);
    if (name === "info" && c.status === 2) finish(2);
    const next = c.out?.kernelNext;
    const sticky = c.out?.exitReason === "sticky";
    if (name === "kernels" && c.crashed && !sticky && c.out?.kernelCurrent && next !== undefined) {
      state.kernelResults.push({ kernel: c.out.kernelCurrent, ok: false, error: "the process died in this case" });
    }
    if (c.crashed && !sticky) {
      log(`${name}: child process ended abnormally (${c.why}) after ${c.seconds.toFixed(0)} s`);
      result.failures.push(`${name}: child process ended abnormally (${c.why})`);
    }
    if (name === "kernels" && c.crashed && next !== undefined && next < (c.out?.kernelCount ?? 0) && opts.budget - elapsed() > 20) {
      log(`kernels: restarting from case ${next + 1} in a fresh process`);
      from = next + 1;
      continue;
    }
    break;
  }
}

const wanted = SECTION_NAMES.filter((n) => opts.sections.includes(n) && RUN[n]);
if (opts.child || !opts.isolate) {
  for (const name of wanted) await RUN[name]();
  if (opts.child) finishChild(0);
} else {
  for (const name of wanted) {
    if (name === "torch") await RUN.torch();
    else if (name === "throughput") throughputChildren();
    else sectionChildren(name);
    save();
  }
}

// ---------------------------------------------------------------- summary
log("\n== summary");
log(`device: ${result.deviceName ?? opts.device}; date ${result.date}; total ${elapsed().toFixed(0)} s`);
const torchTrain = (state.torch?.train ?? {}) as Record<string, { images_per_s?: number }>;
log(`${"preset".padEnd(22)} ${"ours".padEnd(10)} ${pad("img/s", 8)} ${pad("PyTorch", 8)} ${pad("ratio", 6)} ${pad("anchor", 7)} ${pad(">=0.5x", 6)} ${pad(">=1x", 5)}`);
const summaryRows: Json[] = [];
for (const r of state.thrResults as { preset: string; precision: string; imagesPerSecond?: number }[]) {
  const t = torchTrain[r.preset]?.images_per_s ?? null;
  const ours = r.imagesPerSecond ?? null;
  const ratio = ours && t ? ours / t : null;
  const anchor = THROUGHPUT_ANCHORS[r.preset] ?? null;
  const row = { preset: r.preset, precision: r.precision, ours, torch: t, ratio, anchor,
    ratioToAnchor: ours && anchor ? ours / anchor : null,
    first: ratio === null ? null : ratio >= THROUGHPUT_TARGET.first, goal: ratio === null ? null : ratio >= THROUGHPUT_TARGET.goal };
  summaryRows.push(row);
  const yn = (v: boolean | null) => (v === null ? "-" : v ? "MET" : "no");
  log(`${r.preset.padEnd(22)} ${("cuda/" + r.precision).padEnd(10)} ${pad(fx(ours, 1), 8)} ${pad(fx(t, 1), 8)} ${pad(ratio === null ? "-" : ratio.toFixed(2) + "x", 6)} ${pad(anchor ?? "-", 7)} ${pad(yn(row.first), 6)} ${pad(yn(row.goal), 5)}`);
}
log("(ratio = ours / PyTorch eager bf16 measured in this run; anchor = PyTorch on an H200 from the issue; targets apply to bf16 on vits16)");
const parityPrecisions = opts.sections.includes("parity") ? opts.parity.precisions : [];
for (const p of parityPrecisions) {
  const c = state.parityResults[p] as ParityComparison | undefined;
  log(`parity cuda/${p} vs native: ${c ? (c.ok ? "PASS" : "FAIL") : "not run"}${c ? ` (loss rel ${ex(Math.max(...c.losses.map((l) => l.rel)))} / tol ${ex(c.tol.loss)}, worst gradient ${ex(c.gradWorst[0]?.rel)} / tol ${ex(c.tol.grad)})` : ""}`);
}
const failed = state.kernelResults.filter((r) => !r.ok);
log(`kernels: ${state.kernelResults.length} cases, ${failed.length} failed${failed.length ? ": " + failed.map((r) => r.kernel).join(", ") : ""}`);
if (failed.length) result.failures.push(`kernels: ${failed.length} case(s) failed`);
const atomicRan = embedAtomicSummary();
// merged over the child processes (each section's own entry holds only its last child's rows)
Object.assign(result, { kernels: state.kernelResults, parity: state.parityResults, throughput: state.thrResults, torch: state.torch });
result.summary = { rows: summaryRows, parity: Object.fromEntries(Object.entries(state.parityResults).map(([p, c]) => [p, c.ok])), kernelsFailed: failed.length };
if (parityPrecisions.some((p) => !state.parityResults[p])) result.failures.push("parity: not every precision ran");
const judged = [opts.sections.includes("kernels") && "kernels", atomicRan && EMBED_ATOMIC, opts.sections.includes("parity") && "step parity"]
  .filter((s) => s).join(", ").replace(/, ([^,]*)$/, " and $1");
log(result.failures.length ? `RESULT: FAIL (${result.failures.join("; ")})` : `RESULT: PASS (${judged || "nothing"} within tolerance)`);
finish(result.failures.length ? 1 : 0);
