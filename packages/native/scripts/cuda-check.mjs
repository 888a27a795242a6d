/* global console, process, performance */
// Device check of the `cuda` engine (docs/cuda-engine.md), one command on a GPU machine:
// bundled by cuda-check.sh (esbuild: tfjs-core, tfjs-backend-cpu, @dilemma/core and
// @dilemma/native's dist in one file; there is no node_modules on the device).
//
//   node cuda-check.mjs [--device cuda|host] [--quick] [--addon PATH] [--torch-script PATH]
//        [--python python3] [--budget SECONDS] [--sections info,kernels,parity,torch,throughput]
//        [--no-strict] [--no-torch] [--batch 256] [--validate-batch 64] [--validate-batch-matmul 16]
//        [--reps 20] [--parity-vit vit-small] [--parity-batch 16] [--parity-precisions fp32,tf32,bf16]
//        [--parity-floor] [--throughput-precisions bf16,tf32] [--no-isolate | --isolate] [--time-on-host]
// On a GPU each device section runs in a child process of this script (--child; see
// "orchestration"); --isolate does that on the host device too (CUDA_CHECK_TEST_KILL=<kernel>
// kills the kernels child at that case, to try the restart).
//
// Sections (each timed and bounded; skipped with a note once its budget or the total is spent):
//  info        device, cuBLAS, addon build
//  kernels     every addon().gpu kernel on the same random inputs on host buffers (the CPU
//              references) and on device buffers (outputs NaN-poisoned first): max abs / rel
//              error vs the reference within per-kernel tolerances; median cudaEvent time,
//              GB/s by a byte model (each input and output touched once), % of the device's
//              D2D copy bandwidth measured in the same run. Validated at --validate-batch
//              (ViT-S/16 shapes), timed at --batch (256).
//  parity      one full MoCo v3 + DILEMMA step on the `native` CPU engine and on `cuda` (fp32,
//              tf32, bf16) from the same weights, images and rng {seed, counter} (so the same
//              DILEMMA corruption): losses, per-parameter gradients (from AdamW's first moment,
//              m = (1 - b1) g after the first step), BN running statistics and the momentum
//              encoder, against the tolerances of docs/cuda-engine.md.
//  torch       scripts/torch_cuda_bench.py (PyTorch eager, bf16 autocast) as a subprocess.
//  throughput  bench presets vits16 and vits16-dense-baseline on cuda (bf16, tf32):
//              img/s = batch / median step, GPU memory, cpu-fallback calls (must be 0).
// Then a table: ours vs PyTorch, the H200 anchors and the targets, parity PASS/FAIL.
// Logs and JSON go to $OUT (cuda-check.log, cuda-check.json, torch.json), rewritten after
// every section so that a run cut short keeps what it measured.
// Exit: 0 every correctness check passed, 1 a kernel or the step parity failed, 2 no device.
import * as tf from "@tensorflow/tfjs-core"; // before @dilemma/core (see src/backend.ts)
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// ---------------------------------------------------------------- options
const args = process.argv.slice(2);
const has = (name) => args.includes(name);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const here = dirname(fileURLToPath(import.meta.url));
const deviceKind = opt("--device", "cuda");
if (deviceKind !== "cuda" && deviceKind !== "host") {
  console.error(`cuda-check: --device must be cuda or host, got ${deviceKind}`);
  process.exit(2);
}
const quick = has("--quick");
const addonOpt = opt("--addon", existsSync(join(here, "dilemma_native.node")) ? join(here, "dilemma_native.node") : null);
if (addonOpt) process.env.DILEMMA_ADDON = resolve(addonOpt);
// Fallbacks are errors (a training step must use none); counted as well, in case this is off.
if (has("--no-strict")) delete process.env.DILEMMA_CUDA_STRICT;
else process.env.DILEMMA_CUDA_STRICT = "1";
const OUT = process.env.OUT || null;
const BATCH = Number(opt("--batch", quick ? "2" : "256"));
const VBATCH = Number(opt("--validate-batch", quick ? "2" : "64"));
const VBATCH_MM = Number(opt("--validate-batch-matmul", quick ? "2" : "16"));
const REPS = Number(opt("--reps", quick ? "3" : "20"));
// < 7 min on the device with node and addon unpacking (a device machine is lent for 15 min in all).
const TOTAL_BUDGET = Number(opt("--budget", quick ? "900" : "400"));
const SECTIONS = opt("--sections", "info,kernels,parity,torch,throughput").split(",");
const torchScript = resolve(opt("--torch-script", existsSync(join(here, "torch_cuda_bench.py")) ? join(here, "torch_cuda_bench.py") : join(here, "..", "scripts", "torch_cuda_bench.py")));
const python = opt("--python", process.env.DILEMMA_PYTHON || "python3");
const CHILD = has("--child");
const ISOLATE = !CHILD && !has("--no-isolate") && (deviceKind === "cuda" || has("--isolate"));
const CHILD_OUT = opt("--child-out", null);
const KERNEL_FROM = Number(opt("--kernel-from", "0"));
const tStart = performance.now();
const elapsed = () => (performance.now() - tStart) / 1000;

// PyTorch 2.11 eager, bf16 autocast, on an H200 (the project's reference numbers), images/s; and the targets.
const ANCHORS = { vits16: 3928, "vits16-dense-baseline": 2091 };
const TARGET = { first: 0.5, goal: 1.0 };
// docs/cuda-engine.md "Tolerances": relative tolerances of the step parity against the native
// CPU engine. tf32 / bf16 gradients: ~2.5x the worst error of scripts/emulate_precision.py
// (TF32 7.3e-2 if truncating, bf16 1.9e-1): this step amplifies rounding 40-120x.
const PARITY_TOL = {
  fp32: { loss: 1e-4, grad: 1e-4 },
  tf32: { loss: 2e-3, grad: 0.2 },
  bf16: { loss: 1e-2, grad: 0.4 },
};

// ---------------------------------------------------------------- logging / results
const lines = [];
const log = (s = "") => {
  console.log(s);
  lines.push(s);
};
const result = { date: new Date().toISOString(), device: deviceKind, quick, argv: args, sections: {}, failures: [] };
function save() {
  if (!OUT || CHILD) return;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "cuda-check.log"), lines.join("\n") + "\n");
  writeFileSync(join(OUT, "cuda-check.json"), JSON.stringify(result, (k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), 1) + "\n");
}
/** Child mode: what the parent merges (written as it goes, so a crash leaves the progress). */
function writeChildOut(extra = {}) {
  if (!CHILD_OUT) return;
  writeFileSync(CHILD_OUT, JSON.stringify({ sections: result.sections, failures: result.failures, deviceName: result.deviceName,
    kernelResults, parityResults, thrResults, ...childState, ...extra }, (k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)));
}
const childState = {};
function finishChild(code, extra = {}) {
  writeChildOut(extra);
  process.exit(code);
}
function finish(code) {
  if (CHILD) finishChild(code);
  result.exitCode = code;
  result.seconds = elapsed();
  save();
  if (OUT) console.log(`logs: ${join(OUT, "cuda-check.log")}, ${join(OUT, "cuda-check.json")}`);
  process.exit(code);
}
const pad = (v, n) => String(v).padStart(n);
const fx = (v, d) => (v === null || v === undefined || Number.isNaN(v) ? "-" : v.toFixed(d));
const ex = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? "-" : v.toExponential(d));
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs one section with a time budget; an exception fails the section, not the check. */
async function section(name, budgetS, fn) {
  if (!SECTIONS.includes(name)) return null;
  const left = TOTAL_BUDGET - elapsed();
  if (left < 5) {
    log(`\n== ${name}: SKIPPED (total budget of ${TOTAL_BUDGET} s spent)`);
    result.sections[name] = { skipped: "total budget spent" };
    save();
    return null;
  }
  const budget = Math.min(budgetS, left);
  log(`\n== ${name} (budget ${budget.toFixed(0)} s, ${elapsed().toFixed(0)} s elapsed)`);
  const t0 = performance.now();
  let out = null;
  try {
    out = await fn(budget, t0);
  } catch (e) {
    log(`${name}: ERROR ${e && e.stack ? e.stack : e}`);
    result.failures.push(`${name}: ${e && e.message ? e.message : e}`);
    out = { error: String(e && e.message ? e.message : e) };
  }
  const s = (performance.now() - t0) / 1000;
  log(`== ${name}: ${s.toFixed(1)} s`);
  result.sections[name] = { seconds: s, ...(out && typeof out === "object" ? out : {}) };
  save();
  return out;
}

// ---------------------------------------------------------------- modules
let native, core;
try {
  await import("@tensorflow/tfjs-backend-cpu");
  core = await import("@dilemma/core");
  native = await import("@dilemma/native");
} catch (e) {
  log(`cuda-check: cannot load the bundled modules: ${e.stack ?? e}`);
  finish(2);
}
tf.enableProdMode();
const A = native.addon();
if (A === null) {
  log(`cuda-check: the addon did not load: ${native.loadError()}`);
  finish(2);
}
const G = A.gpu;
const hasCudaBackend = typeof native.useCudaBackend === "function";
// The addon's codes as @dilemma/native types them (src/cuda/addon.ts), not typed again here.
const { WHERE, DTYPE, PRECISION: PREC, UNARY: UNARY_CODES, BINARY: BIN, REDUCE: RED } = native;
const DEV = deviceKind === "cuda" ? WHERE.cuda : WHERE.host;

// ---------------------------------------------------------------- (a) info
const RUN = {}; // section name -> () => Promise (run in this process)
const kernelResults = [];
const parityResults = {};
let torchRes = null;
const thrResults = [];
RUN.info = () => section("info", 30, async () => {
  const info = A.info();
  log(`addon ${process.env.DILEMMA_ADDON ?? "(package build)"}: version ${info.version}, BLAS ${info.blas}, ${info.threads} threads, DILEMMA kernels ${info.dilemmaKernels}`);
  log(`  CUDA compiled=${info.cuda.compiled} archs=${info.cuda.archs} runtime=${info.cuda.runtimeVersion} devices=${info.cuda.devices}; cuBLAS ${info.cuda.cublas.available ? info.cuda.cublas.library : "not found: " + info.cuda.cublas.error}`);
  log(`  node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, check mode: device ${deviceKind}${quick ? " (quick)" : ""}, strict ${process.env.DILEMMA_CUDA_STRICT === "1"}`);
  if (typeof G?.alloc !== "function") {
    log("cuda-check: this addon has no gpu runtime (addon().gpu); rebuild it from this checkout");
    finish(2);
  }
  if (!hasCudaBackend) log("cuda-check: WARNING @dilemma/native's dist has no useCudaBackend: parity and throughput cannot run (npm run build -w @dilemma/native, then repack)");
  let rt = null;
  if (deviceKind === "cuda") {
    if (!info.cuda.compiled || info.cuda.devices < 1) {
      log(`cuda-check: no CUDA device (compiled=${info.cuda.compiled}, devices=${info.cuda.devices})`);
      result.sections.info = { info, error: "no CUDA device" };
      finish(2);
    }
    try {
      G.init(0);
    } catch (e) {
      log(`cuda-check: init(0) failed: ${e.message}`);
      result.sections.info = { info, error: e.message };
      finish(2);
    }
    rt = G.runtimeInfo();
    const d = rt.device;
    log(`  device ${d?.name} (sm_${d?.computeCapability?.replace(".", "")}), ${fx((d?.totalMemoryBytes ?? 0) / 2 ** 30, 1)} GiB; cuBLAS ${rt.cublas?.version ?? "?"} (${rt.cublas?.library ?? "?"})`);
    result.deviceName = d?.name ?? null;
  } else {
    result.deviceName = "host (CPU reference kernels)";
  }
  return { info, runtime: rt };
});

// ---------------------------------------------------------------- random inputs
// Pools of random values tiled into inputs of any size (generating tens of millions of
// values per input in JS would cost more than the kernels being checked).
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const POOL = quick ? 1 << 16 : 1 << 22;
const pools = {};
function pool(kind) {
  if (pools[kind]) return pools[kind];
  const r = mulberry32({ normal: 1, pos: 2, unit: 3, grid: 4, int: 5, bool: 6, near1: 7 }[kind] ?? 9);
  const isInt = kind === "int" || kind === "bool";
  const p = isInt ? new Int32Array(POOL + 7) : new Float32Array(POOL + 7); // +7: not a multiple of any shape
  for (let i = 0; i < p.length; i++) {
    const u = r();
    switch (kind) {
      case "normal": p[i] = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * r()); break;
      case "pos": p[i] = 0.05 + 3 * u; break; // log / sqrt / rsqrt / reciprocal domain
      case "unit": p[i] = u; break;
      case "near1": p[i] = 0.75 + 0.5 * u; break; // products of a few stay O(1)
      case "grid": p[i] = Math.round((u - 0.5) * 8) / 2; break; // many exact ties for comparisons
      case "int": p[i] = Math.floor((u - 0.5) * 2000); break;
      case "bool": p[i] = u < 0.5 ? 1 : 0; break;
      default: throw new Error(kind);
    }
  }
  return (pools[kind] = p);
}
let poolOffset = 0;
/** A host array of `n` values of `kind`, tiled from the pool at a rotating offset. */
function rand(kind, n, scale = 1) {
  const p = pool(kind);
  const out = kind === "int" || kind === "bool" ? new Int32Array(n) : new Float32Array(n);
  let off = (poolOffset = (poolOffset + 1237) % POOL);
  for (let i = 0; i < n;) {
    const len = Math.min(n - i, p.length - off);
    out.set(p.subarray(off, off + len), i);
    i += len;
    off = 0;
  }
  if (scale !== 1) for (let i = 0; i < n; i++) out[i] *= scale;
  return out;
}
const nonzeroInt = (n) => {
  const a = rand("int", n);
  for (let i = 0; i < n; i++) if (a[i] === 0) a[i] = 7;
  return a;
};
const rms = (a) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / Math.max(1, a.length));
};

// ---------------------------------------------------------------- buffers
function upload(where, data) {
  const id = G.alloc(where, Math.max(4, data.byteLength));
  if (data.length) G.upload(id, data);
  return id;
}
function download(id, n, dtype) {
  const a = dtype === "float32" ? new Float32Array(n) : new Int32Array(n);
  if (n) G.download(id, a);
  return a;
}

// ---------------------------------------------------------------- kernel cases
// A case, for a batch B: inputs (host arrays), outputs ({n, dtype}), call(inIds, outIds),
// a tolerance per output ({rtol, atol} or a function of the inputs), bytes and flops.
const D = 384, H = 6, HD = 64, DH = 1536, L = 196, KEPT = 49;
const EXACT = { rtol: 0, atol: 0 };
const ROUND = { rtol: 5e-7, atol: 0 }; // one rounded op each side (~4 ulp: fused or approximate division allowed)
const TRANS = { rtol: 2e-6, atolScale: 1e-6 }; // libm-class functions: a few ulp, plus near-zero slack
const UNARY_CASES = {
  Abs: ["normal", EXACT], Exp: ["normal", TRANS], Log: ["pos", TRANS], Log1p: ["pos", TRANS], Neg: ["normal", EXACT],
  Relu: ["normal", EXACT], Rsqrt: ["pos", TRANS], Sqrt: ["pos", TRANS], Square: ["normal", ROUND], Step: ["normal", EXACT],
  Sigmoid: ["normal", TRANS], Tanh: ["normal", TRANS], Reciprocal: ["pos", TRANS], Sign: ["normal", EXACT],
  Floor: ["normal", EXACT], Ceil: ["normal", EXACT], Expm1: ["normal", TRANS], LeakyRelu: ["normal", ROUND],
  Relu6: ["normal", EXACT], Softplus: ["normal", TRANS], Erf: ["normal", TRANS], Elu: ["normal", TRANS],
  Round: ["grid", EXACT], Sin: ["normal", TRANS], Cos: ["normal", TRANS],
};
const f32 = (n) => ({ n, dtype: "float32" });
const i32 = (n) => ({ n, dtype: "int32" });
const contiguous = (shape) => {
  const s = new Array(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
};
const bytesOf = (ins, outs) => 4 * (ins.reduce((s, a) => s + a.length, 0) + outs.reduce((s, o) => s + o.n, 0));

/**
 * matMul tolerance: c(precision) of the output scale sqrt(k)·rms(A)·rms(B). Rounding both
 * operands to a unit roundoff u gives errors of ~u times that scale (random signs); c is ~10x:
 * TF32 u = 2^-11 (doubled in case the conversion truncates), bf16 2^-8; fp32 sums grow ~u·sqrt(k).
 */
const MM_C = { fp32: 5e-5, tf32: 8e-3, bf16: 3e-2 };
function matmulCase(name, B, spec, precision = "fp32") {
  const { batchA = 1, batchB = 1, batchOut = 1, m, n, k, transA = false, transB = false, bias = false, act = 0, alpha = 0, idx = false } = spec(B);
  const a = rand("normal", batchA * m * k), b = rand("normal", batchB * k * n, 0.05);
  const ins = [a, b];
  if (bias) ins.push(rand("normal", n, 0.1));
  const idxA = idx ? Int32Array.from({ length: batchOut }, (_, i) => (i * 7) % batchA) : undefined;
  const idxB = idx ? Int32Array.from({ length: batchOut }, (_, i) => (i * 3) % batchB) : undefined;
  return {
    name: `${name}${precision === "fp32" ? "" : ` [${precision}]`}`, family: "matMul", precision,
    shape: `${batchOut}x${m}x${n}x${k}${transA ? " tA" : ""}${transB ? " tB" : ""}`,
    ins, outs: [f32(batchOut * m * n)],
    call: ([ia, ib, ibias], [o]) => G.matMul(ia, ib, o, batchA, batchB, batchOut, m, n, k, transA, transB, bias ? ibias : 0, bias ? n : 0, act, alpha, idxA, idxB),
    tol: [{ rtol: 1e-6, atol: MM_C[precision] * Math.sqrt(k) * rms(a) * rms(b) }],
    flops: 2 * batchOut * m * n * k,
  };
}

function kernelCases(B, forTiming) {
  const T = B * (KEPT + 1); // tokens of the sparse encoder (cls + 49)
  const n = T * D;
  const cases = [];
  const add = (c) => cases.push(c);
  add({ name: "fill", shape: `${n}`, ins: [], outs: [f32(n)], call: (_, [o]) => G.fill(o, n, 0.5, DTYPE.float32), tol: [EXACT] });
  add({ name: "cast f32->i32", shape: `${n}`, ins: [rand("normal", n, 100)], outs: [i32(n)], call: ([x], [o]) => G.cast(x, o, n, DTYPE.float32, DTYPE.int32), tol: [EXACT] });
  add({ name: "cast i32->f32", shape: `${n}`, ins: [rand("int", n)], outs: [f32(n)], call: ([x], [o]) => G.cast(x, o, n, DTYPE.int32, DTYPE.float32), tol: [EXACT] });
  add({ name: "cast f32->bool", shape: `${n}`, ins: [rand("grid", n)], outs: [i32(n)], call: ([x], [o]) => G.cast(x, o, n, DTYPE.float32, DTYPE.bool), tol: [EXACT] });
  for (const [op, [kind, tol]] of Object.entries(UNARY_CASES)) {
    const alpha = op === "LeakyRelu" ? 0.2 : op === "Step" ? 0 : 0;
    add({ name: `unary ${op}`, family: "unary", shape: `${n}`, ins: [rand(kind, n)], outs: [f32(n)], call: ([x], [o]) => G.unary(UNARY_CODES[op], x, o, n, alpha), tol: [tol] });
  }
  add({ name: "unary LogicalNot", family: "unary", shape: `${n}`, ins: [rand("bool", n)], outs: [i32(n)], call: ([x], [o]) => G.unary(UNARY_CODES.LogicalNot, x, o, n, 0), tol: [EXACT] });
  // binary: same shape, bias broadcast over rows, per-row scale, scalar, rank-4 attention mask
  const bin = (op, shape, aShape, bShape, kindA, kindB, tol, inDtype = "float32", outDtype = inDtype) => {
    const size = (s) => s.reduce((x, y) => x * y, 1);
    const strides = (s) => { const c = contiguous(s); return s.map((d, i) => (d === 1 && shape[i] !== 1 ? 0 : c[i])); };
    const a = kindA === "nonzero" ? nonzeroInt(size(aShape)) : rand(kindA, size(aShape));
    const b = kindB === "nonzero" ? nonzeroInt(size(bShape)) : rand(kindB, size(bShape));
    const as = strides(aShape), bs = strides(bShape), N = size(shape);
    add({
      name: `binary ${op} ${aShape.join("x")}${bShape.join("x") === aShape.join("x") ? "" : " . " + bShape.join("x")}`, family: "binary", shape: shape.join("x"),
      ins: [a, b], outs: [{ n: N, dtype: outDtype === "bool" ? "int32" : outDtype }],
      call: ([ia, ib], [o]) => G.binary(BIN[op], ia, ib, o, shape, as, bs, DTYPE[inDtype]), tol: [tol],
    });
  };
  const TDm = [T, D];
  bin("Add", TDm, TDm, TDm, "normal", "normal", EXACT);
  bin("Add", TDm, TDm, [1, D], "normal", "normal", EXACT);
  bin("Sub", TDm, TDm, TDm, "normal", "normal", EXACT);
  bin("Mul", TDm, TDm, [T, 1], "normal", "normal", EXACT);
  bin("Mul", TDm, TDm, [1, 1], "normal", "normal", EXACT);
  bin("Div", TDm, TDm, TDm, "normal", "pos", ROUND);
  bin("Max", TDm, TDm, TDm, "normal", "normal", EXACT);
  bin("Min", TDm, TDm, TDm, "normal", "normal", EXACT);
  bin("SquaredDifference", TDm, TDm, TDm, "normal", "normal", ROUND);
  bin("Pow", TDm, TDm, TDm, "pos", "normal", TRANS);
  bin("FloorDiv", TDm, TDm, TDm, "int", "nonzero", EXACT, "int32");
  bin("Mod", TDm, TDm, TDm, "int", "nonzero", EXACT, "int32");
  bin("Add", [B, H, KEPT + 1, KEPT + 1], [B, H, KEPT + 1, KEPT + 1], [1, 1, KEPT + 1, KEPT + 1], "normal", "normal", EXACT);
  for (const op of ["Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual"]) bin(op, TDm, TDm, TDm, "grid", "grid", EXACT, "float32", "bool");
  bin("Greater", TDm, TDm, [1, D], "int", "int", EXACT, "int32", "bool");
  bin("LogicalAnd", TDm, TDm, TDm, "bool", "bool", EXACT, "bool");
  bin("LogicalOr", TDm, TDm, [T, 1], "bool", "bool", EXACT, "bool");
  {
    const c = rand("bool", n), a = rand("normal", n), b = rand("normal", n), st = contiguous(TDm);
    add({ name: "select", shape: TDm.join("x"), ins: [c, a, b], outs: [f32(n)], call: ([ic, ia, ib], [o]) => G.select(ic, ia, ib, o, TDm, st, st, st), tol: [EXACT] });
    const c1 = rand("bool", T);
    add({ name: "select cond Tx1", shape: TDm.join("x"), ins: [c1, a, b], outs: [f32(n)], call: ([ic, ia, ib], [o]) => G.select(ic, ia, ib, o, TDm, [1, 0], st, st), tol: [EXACT] });
  }
  {
    const xs = [rand("normal", n), rand("normal", n), rand("normal", n)];
    // another summation order may differ by an ulp of the partial sums (~2·rms), also where the sum cancels
    add({ name: "addN x3", shape: `${n}`, ins: xs, outs: [f32(n)], call: (ids, [o]) => G.addN(o, ids, n), tol: [{ rtol: 4e-7, atolScale: 5e-7 }] });
  }
  // reductions over [outer, r, inner]: sums get a tolerance growing with sqrt(r)
  const red = (op, outer, r, inner, kind, outDtype = "float32") => {
    const x = rand(kind, outer * r * inner);
    const sumTol = { rtol: 1e-6, atolScale: 2e-6 * Math.sqrt(r) };
    const tol = op === "Sum" || op === "Mean" ? sumTol : op === "Prod" ? { rtol: 2e-6 * r, atolScale: 0 } : EXACT;
    const inDtype = kind === "bool" ? DTYPE.bool : DTYPE.float32;
    add({
      name: `reduce ${op} [${outer},${r},${inner}]`, family: "reduce", shape: `${outer}x${r}x${inner}`,
      ins: [x], outs: [{ n: outer * inner, dtype: outDtype }], call: ([ix], [o]) => G.reduce(RED[op], ix, o, outer, r, inner, inDtype), tol: [tol],
    });
  };
  red("Sum", 1, T, D, "normal");            // bias gradient
  red("Sum", T, D, 1, "normal");            // row sums
  red("Mean", T, D, 1, "normal");
  red("Max", B * H * (KEPT + 1), KEPT + 1, 1, "normal");
  red("Min", T, D, 1, "normal");
  red("Prod", T, 8, 1, "near1");
  red("ArgMax", T, D, 1, "normal", "int32");
  red("ArgMin", 1, T, D, "normal", "int32");
  red("Any", T, D, 1, "bool", "int32");
  red("All", T, 4, 1, "bool", "int32");
  // softmax rows: sparse attention (50 tokens) and dense (197)
  for (const N of [KEPT + 1, L + 1]) {
    const rows = B * H * N;
    add({ name: `softmax ${N}`, shape: `${rows}x${N}`, ins: [rand("normal", rows * N, 3)], outs: [f32(rows * N)], call: ([x], [o]) => G.softmax(x, o, rows, N), tol: [{ rtol: 1e-5, atolScale: 1e-6 }] });
  }
  // transpose / strided copy: the attention layout changes and the cls concat
  {
    const qkv = [B, KEPT + 1, 3, H, HD], per = [2, 0, 3, 1, 4], nq = qkv.reduce((x, y) => x * y, 1);
    add({ name: "transpose qkv", shape: qkv.join("x"), ins: [rand("normal", nq)], outs: [f32(nq)], call: ([x], [o]) => G.transpose(x, o, qkv, per), tol: [EXACT] });
    const ao = [B, H, KEPT + 1, HD];
    add({ name: "transpose heads", shape: ao.join("x"), ins: [rand("normal", n)], outs: [f32(n)], call: ([x], [o]) => G.transpose(x, o, ao, [0, 2, 1, 3]), tol: [EXACT] });
    add({ name: "stridedCopy q of qkv", shape: `${T}x${D}`, ins: [rand("normal", T * 3 * D)], outs: [f32(n)], call: ([x], [o]) => G.stridedCopy(x, o, [T, D], D, [3 * D, 1], 0, [D, 1]), tol: [EXACT] });
    // into the middle of an existing buffer: the rest of `out` is initialised (same on both sides)
    add({ name: "stridedCopy cls concat", shape: `${B}x${KEPT}x${D}`, ins: [rand("normal", B * KEPT * D)], outs: [f32(n)], initOut: true,
      call: ([x], [o]) => G.stridedCopy(x, o, [B, KEPT, D], 0, [KEPT * D, D, 1], D, [(KEPT + 1) * D, D, 1]), tol: [EXACT] });
  }
  // matrix products at ViT-S/16 training shapes (fewer rows when validating: host is a CPU reference)
  const Bm = forTiming ? B : Math.min(B, VBATCH_MM);
  const Tm = Bm * (KEPT + 1);
  const mm = [
    ["matMul fc1 +bias", () => ({ m: Tm, n: DH, k: D, bias: true })],
    ["matMul qkv +bias relu", () => ({ m: Tm, n: 3 * D, k: D, bias: true, act: 1 })],
    ["matMul fc1 dX (tB)", () => ({ m: Tm, n: D, k: DH, transB: true })],
    ["matMul fc2 dW (tA)", () => ({ m: DH, n: D, k: Tm, transA: true })],
    ["matMul attn q.kT", () => ({ batchA: Bm * H, batchB: Bm * H, batchOut: Bm * H, m: KEPT + 1, n: KEPT + 1, k: HD, transB: true })],
    ["matMul attn p.v", () => ({ batchA: Bm * H, batchB: Bm * H, batchOut: Bm * H, m: KEPT + 1, n: HD, k: KEPT + 1 })],
    ["matMul shared W", () => ({ batchA: Bm, batchB: 1, batchOut: Bm, m: KEPT + 1, n: D, k: D })],
    ["matMul indexed", () => ({ batchA: 4, batchB: 3, batchOut: 8, m: 33, n: 65, k: 70, idx: true })],
  ];
  for (const [name, spec] of mm) add(matmulCase(name, B, () => spec(), "fp32"));
  for (const p of ["tf32", "bf16"]) {
    add(matmulCase("matMul fc1 +bias", B, () => mm[0][1](), p));
    add(matmulCase("matMul fc2 dW (tA)", B, () => mm[3][1](), p));
  }
  {
    const N = T * DH, x = rand("normal", N), dy = rand("normal", N);
    add({ name: "geluErf", shape: `${N}`, ins: [x], outs: [f32(N)], call: ([ix], [o]) => G.geluErf(ix, o, N), tol: [TRANS] });
    add({ name: "geluErfGrad", shape: `${N}`, ins: [dy, x], outs: [f32(N)], call: ([idy, ix], [o]) => G.geluErfGrad(idy, ix, o, N), tol: [TRANS] });
  }
  {
    const rows = T, x = rand("normal", rows * D, 2), g = rand("near1", D), b = rand("normal", D, 0.1), dy = rand("normal", rows * D);
    add({ name: "layerNorm", shape: `${rows}x${D}`, ins: [x, g, b], outs: [f32(rows * D)], call: ([ix, ig, ib], [o]) => G.layerNorm(ix, ig, ib, o, rows, D, 1e-6), tol: [{ rtol: 1e-5, atolScale: 1e-6 }] });
    add({
      name: "layerNormGrad", shape: `${rows}x${D}`, ins: [dy, x, g], outs: [f32(rows * D), f32(D), f32(D)],
      call: ([idy, ix, ig], [dx, dg, db]) => G.layerNormGrad(idy, ix, ig, dx, dg, db, rows, D, 1e-6),
      tol: [{ rtol: 1e-5, atolScale: 1e-5 }, { rtol: 1e-5, atolScale: 2e-6 * Math.sqrt(rows) }, { rtol: 1e-5, atolScale: 2e-6 * Math.sqrt(rows) }],
    });
  }
  // FusedAttention / FusedMlp (+ grads) at ViT-S/16 shapes: sparse (cls + 49 kept) with the
  // gradient, dense (197) forward as the momentum encoder runs it. Outputs are sums of fp32
  // products (k = D or the row count for weight gradients): tolerance relative to the output scale.
  {
    const Bf = forTiming ? B : Math.min(B, VBATCH_MM);
    const GEMM_TOL = { rtol: 1e-5, atolScale: 5e-5 };
    const SUM_TOL = { rtol: 1e-5, atolScale: 2e-4 };
    for (const N of [KEPT + 1, L + 1]) {
      const R = Bf * N;
      const x = rand("normal", R * D), qkvW = rand("normal", 3 * D * D, 0.05), qkvB = rand("normal", 3 * D, 0.1);
      const projW = rand("normal", D * D, 0.05), projB = rand("normal", D, 0.1);
      add({
        name: `attention N=${N}`, family: "fused", shape: `${Bf}x${N}x${D} H${H}`, ins: [x, qkvW, qkvB, projW, projB],
        outs: [f32(R * D), f32(R * 3 * D), f32(Bf * H * N * N), f32(R * D)],
        call: ([ix, iw, ib, ipw, ipb], [o, q, p, c]) => G.attention(ix, iw, ib, ipw, ipb, o, q, p, c, Bf, N, D, H),
        tol: [GEMM_TOL, GEMM_TOL, { rtol: 1e-5, atolScale: 1e-5 }, GEMM_TOL],
        flops: 2 * R * 4 * D * D + 4 * Bf * N * N * D,
      });
      if (N !== KEPT + 1) continue;
      // the gradient, fed a consistent forward (computed on the host here: same inputs both sides)
      const fw = [R * D, R * 3 * D, Bf * H * N * N, R * D].map((n) => rand("normal", n));
      if (!forTiming) {
        const ids = [x, qkvW, qkvB, projW, projB].map((a) => upload(WHERE.host, a));
        const outs = fw.map((a) => G.alloc(WHERE.host, 4 * a.length));
        G.attention(...ids, ...outs, Bf, N, D, H);
        outs.forEach((id, i) => G.download(id, fw[i]));
        [...ids, ...outs].forEach((id) => G.free(id));
      }
      const dy = rand("normal", R * D);
      add({
        name: `attentionGrad N=${N}`, family: "fused", shape: `${Bf}x${N}x${D} H${H}`, ins: [dy, x, qkvW, projW, fw[1], fw[2], fw[3]],
        outs: [f32(R * D), f32(3 * D * D), f32(3 * D), f32(D * D), f32(D)],
        call: ([idy, ix, iw, ipw, iq, ip, ic], [dx, dw, db, dpw, dpb]) => G.attentionGrad(idy, ix, iw, ipw, iq, ip, ic, dx, dw, db, dpw, dpb, Bf, N, D, H),
        tol: [GEMM_TOL, SUM_TOL, SUM_TOL, SUM_TOL, SUM_TOL],
        flops: 2 * 2 * R * 4 * D * D + 8 * Bf * N * N * D,
      });
    }
    const R = Bf * (KEPT + 1);
    const x = rand("normal", R * D), fc1W = rand("normal", DH * D, 0.05), fc1B = rand("normal", DH, 0.1), fc2W = rand("normal", D * DH, 0.05), fc2B = rand("normal", D, 0.1);
    add({
      name: "mlp", family: "fused", shape: `${R}x${D}x${DH}`, ins: [x, fc1W, fc1B, fc2W, fc2B], outs: [f32(R * D), f32(R * DH), f32(R * DH)],
      call: ([ix, i1, ib1, i2, ib2], [o, pre, act]) => G.mlp(ix, i1, ib1, i2, ib2, o, pre, act, R, D, DH),
      tol: [GEMM_TOL, GEMM_TOL, { ...GEMM_TOL, rtol: 2e-6 + GEMM_TOL.rtol }], flops: 4 * R * D * DH,
    });
    const pre = rand("normal", R * DH), act = rand("normal", R * DH), dy = rand("normal", R * D);
    add({
      name: "mlpGrad", family: "fused", shape: `${R}x${D}x${DH}`, ins: [dy, x, fc1W, fc2W, pre, act],
      outs: [f32(R * D), f32(DH * D), f32(DH), f32(D * DH), f32(D)],
      call: ([idy, ix, i1, i2, ip, ia], [dx, d1, db1, d2, db2]) => G.mlpGrad(idy, ix, i1, i2, ip, ia, dx, d1, db1, d2, db2, R, D, DH),
      tol: [GEMM_TOL, SUM_TOL, SUM_TOL, SUM_TOL, SUM_TOL], flops: 8 * R * D * DH,
    });
  }
  {
    const s = core.sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - KEPT / L, dilemmaProb: 0.2, rng: { seed: 11, counter: B } });
    const real = Int32Array.from(s.realPos), inp = Int32Array.from(s.inputPos);
    const tokens = rand("normal", B * L * D), pos = rand("normal", L * D), dy = rand("normal", B * KEPT * D);
    add({ name: "dilemmaEmbed", shape: `${B},${L},${KEPT},${D}`, ins: [tokens, pos, real, inp], outs: [f32(B * KEPT * D)],
      call: ([it, ip, ir, ii], [o]) => G.dilemmaEmbed(it, ip, ir, ii, B, L, KEPT, D, o), tol: [EXACT],
      bytes: 4 * 3 * B * KEPT * D }); // pytorch_bench's model (indices not counted)
    add({ name: "dilemmaEmbedGrad", shape: `${B},${L},${KEPT},${D}`, ins: [dy, real, inp], outs: [f32(B * L * D), f32(L * D)],
      call: ([idy, ir, ii], [dt, dp]) => G.dilemmaEmbedGrad(idy, ir, ii, B, L, KEPT, D, dt, dp),
      tol: [EXACT, { rtol: 1e-6, atolScale: 1e-6 }], bytes: 4 * (B * L * D + 2 * B * KEPT * D + L * D) });
  }
  {
    const N = D * DH; // the largest ViT-S parameter (one kernel per parameter)
    const p = rand("normal", N, 0.02), g = rand("normal", N, 1e-2), m = rand("normal", N, 1e-3), v = rand("pos", N, 1e-5);
    const lr = 5e-4, b1 = 0.9, b2 = 0.999, t = 3;
    add({
      name: "adamW", shape: `${N}`, ins: [p, g, m, v], outs: [f32(N), f32(N), f32(N)],
      call: ([ip, ig, im, iv], [op, om, ov]) => G.adamW(ip, ig, im, iv, op, om, ov, N, lr, b1, b2, 1e-8, 0.05, lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t)),
      tol: [{ rtol: 1e-6, atolScale: 1e-6 }, { rtol: 4e-7, atolScale: 5e-7 }, { rtol: 4e-7, atolScale: 1e-7 }],
    });
    // momentum-encoder update: rounded intrinsics, so bit-identical to the reference
    add({ name: "ema", shape: `${N}`, ins: [p, m], outs: [f32(N)],
      call: ([it, is], [o]) => G.ema(it, is, o, N, 0.996), tol: [EXACT], bytes: 4 * 3 * N });
  }
  return cases;
}

/** Elementwise comparison: bad where |d| > atol + rtol·|ref| (atol may scale with rms(ref)); NaN must match. */
function compare(ref, got, tol) {
  const atol = (tol.atol ?? 0) + (tol.atolScale ?? 0) * rms(ref);
  let bad = 0, maxAbs = 0, maxRatio = 0, firstBad = -1;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i], g = got[i];
    if (Number.isNaN(r) || Number.isNaN(g)) {
      if (!(Number.isNaN(r) && Number.isNaN(g))) { bad++; if (firstBad < 0) firstBad = i; maxRatio = Infinity; }
      continue;
    }
    const d = Math.abs(r - g);
    const lim = atol + tol.rtol * Math.abs(r);
    if (d > maxAbs) maxAbs = d;
    const ratio = d === 0 ? 0 : lim === 0 ? Infinity : d / lim;
    if (ratio > maxRatio) maxRatio = ratio;
    if (d > lim) { bad++; if (firstBad < 0) firstBad = i; }
  }
  return { bad, maxAbs, maxRatio, firstBad, scale: rms(ref) };
}

function runCase(c, where, poison) {
  const ids = c.ins.map((a) => upload(where, a));
  const outs = c.outs.map((o, j) => {
    const id = G.alloc(where, Math.max(4, 4 * o.n));
    if (c.initOut) G.upload(id, c.initData?.[j] ?? (c.initData = c.outs.map((x) => rand("normal", x.n)))[j]);
    else if (poison) G.fill(id, o.n, o.dtype === "float32" ? NaN : -7, o.dtype === "float32" ? DTYPE.float32 : DTYPE.int32);
    return id;
  });
  return { ids, outs, free: () => [...ids, ...outs].forEach((id) => G.free(id)) };
}

// PyTorch 2.11 on an H200, fp32, B=256 L=196 K=49 D=384 (device-check.mjs): gather+add forward
// and the autograd backward (fwd+bwd 237 us minus the forward).
const EMBED_ANCHOR_US = { dilemmaEmbed: 69.6, dilemmaEmbedGrad: 237 - 69.6 };
function anchorNote(name, us) {
  const a = EMBED_ANCHOR_US[name];
  if (!a || us === null || DEV !== WHERE.cuda || BATCH !== 256) return "";
  return `  (PyTorch H200 ${a.toFixed(0)} us: ${(a / us).toFixed(2)}x)`;
}

/** After an error: can the device still run work (asynchronous faults are sticky in CUDA)? */
function contextUsable() {
  try {
    const id = G.alloc(DEV, 1024);
    G.fill(id, 256, 0, DTYPE.float32);
    G.synchronize();
    G.free(id);
    return true;
  } catch {
    return false;
  }
}

function timeCase(c, where, reps, budgetMs) {
  const r = runCase(c, where, false);
  const precision = c.precision ?? "fp32";
  if (where === WHERE.cuda) G.setMatmulPrecision(PREC[precision]);
  try {
    c.call(r.ids, r.outs); // warm-up (lazy module loading, cuBLAS heuristics)
    c.call(r.ids, r.outs);
    G.synchronize();
    const ts = [];
    const t0 = performance.now();
    if (where === WHERE.cuda) {
      const ev = [G.eventRecord()];
      for (let i = 0; i < reps; i++) {
        c.call(r.ids, r.outs);
        ev.push(G.eventRecord());
        if (performance.now() - t0 > budgetMs) break;
      }
      for (let i = 1; i < ev.length; i++) ts.push(G.eventElapsedMs(ev[i - 1], ev[i]) * 1000);
      ev.forEach((e) => G.eventFree(e));
    } else {
      for (let i = 0; i < reps; i++) {
        const t = performance.now();
        c.call(r.ids, r.outs);
        G.synchronize();
        ts.push((performance.now() - t) * 1000);
        if (performance.now() - t0 > budgetMs) break;
      }
    }
    return { us: median(ts), reps: ts.length };
  } finally {
    if (where === WHERE.cuda) G.setMatmulPrecision(PREC.fp32);
    r.free();
  }
}

function validateCase(c) {
  const outs = [];
  const th = performance.now();
  for (const where of [WHERE.host, DEV]) {
    const r = runCase(c, where, true);
    if (where === WHERE.cuda) G.setMatmulPrecision(PREC[c.precision ?? "fp32"]);
    try {
      c.call(r.ids, r.outs);
      outs.push(c.outs.map((o, j) => download(r.outs[j], o.n, o.dtype)));
    } finally {
      if (where === WHERE.cuda) G.setMatmulPrecision(PREC.fp32);
      r.free();
    }
  }
  const hostMs = performance.now() - th;
  const cmp = c.outs.map((o, j) => compare(outs[0][j], outs[1][j], c.tol[j] ?? c.tol[0]));
  return { hostMs, cmp, ok: cmp.every((x) => x.bad === 0) };
}

RUN.kernels = () => section("kernels", quick ? 300 : 75, async (budget, t0) => {
  const left = () => budget - (performance.now() - t0) / 1000;
  if (DEV === WHERE.cuda) G.init(0); // idempotent; a child process has not run the info section
  // the copy-bandwidth reference: D2D copy of 256 MiB (read + write counted), median of 10
  let copyGBps = null;
  if (DEV === WHERE.cuda) {
    const bytes = 256 * 2 ** 20, a = G.alloc(DEV, bytes), b = G.alloc(DEV, bytes);
    G.fill(a, bytes / 4, 1, DTYPE.float32);
    G.copy(b, 0, a, 0, bytes);
    const ev = [G.eventRecord()];
    for (let i = 0; i < 10; i++) { G.copy(b, 0, a, 0, bytes); ev.push(G.eventRecord()); }
    const ts = [];
    for (let i = 1; i < ev.length; i++) ts.push(G.eventElapsedMs(ev[i - 1], ev[i]));
    ev.forEach((e) => G.eventFree(e));
    G.free(a); G.free(b);
    copyGBps = (2 * bytes) / (median(ts) / 1e3) / 1e9;
    log(`copy bandwidth (D2D 256 MiB, read + write): ${fx(copyGBps, 0)} GB/s (H200 reference ~4200)`);
  }
  const validate = kernelCases(VBATCH, false);
  // (--time-on-host: build and time the full-size cases on the host too, to try them without a GPU)
  const timing = DEV === WHERE.cuda || has("--time-on-host") ? kernelCases(BATCH, true) : null;
  log(`validating at batch ${VBATCH} (matMul ${Math.min(VBATCH, VBATCH_MM)}) on host vs ${deviceKind} buffers${timing ? `, timing at batch ${BATCH}` : ""}`);
  log(`${"kernel".padEnd(28)} ${"shape (timed)".padEnd(22)} ${pad("ok", 3)} ${pad("bad", 7)} ${pad("maxAbsErr", 9)} ${pad("err/tol", 7)} ${pad("us", 9)} ${pad("GB/s", 7)} ${pad("%copy", 5)} ${pad("TFLOP/s", 7)}`);
  let failures = 0, skipped = 0;
  childState.kernelCount = validate.length;
  if (KERNEL_FROM > 0) log(`(continuing from case ${KERNEL_FROM + 1} of ${validate.length})`);
  for (let i = KERNEL_FROM; i < validate.length; i++) {
    const c = validate[i];
    if (left() < 2) { skipped++; continue; }
    const tc = timing ? timing[i] : c;
    // progress for the parent: if this case kills the process, it knows which and where to go on
    childState.kernelNext = i;
    childState.kernelCurrent = c.name;
    writeChildOut();
    // test hook of the restart path (a case that kills its process): CUDA_CHECK_TEST_KILL=<kernel name>
    if (process.env.CUDA_CHECK_TEST_KILL === c.name) process.kill(process.pid, "SIGKILL");
    let v, t = null;
    try {
      v = validateCase(c);
      if (left() > 2) t = timeCase(tc, DEV, REPS, Math.min(1500, left() * 200));
    } catch (e) {
      // a missing entry point or a thrown CUDA error fails this case; the others still run
      failures++;
      kernelResults.push({ kernel: c.name, shape: tc.shape, ok: false, error: e.message });
      log(`${c.name.padEnd(28)} ${tc.shape.slice(0, 22).padEnd(22)}  NO  ERROR ${e.message.slice(0, 200)}`);
      if (DEV === WHERE.cuda && !contextUsable()) {
        // a fault poisons the CUDA context: the parent restarts after this case in a new process
        log("kernels: the CUDA context is no longer usable after this error");
        finishChild(3, { exitReason: "sticky", kernelNext: i });
      }
      continue;
    }
    if (!v.ok) failures++;
    const bytes = tc.bytes ?? bytesOf(tc.ins, tc.outs);
    if (timing) timing[i] = null; // its host arrays can go (all timing cases together are a few GB)
    validate[i] = null;
    const GBps = t ? bytes / t.us / 1e3 : null;
    const row = {
      kernel: c.name, shape: tc.shape, ok: v.ok, bad: v.cmp.reduce((s, x) => s + x.bad, 0),
      maxAbsErr: Math.max(...v.cmp.map((x) => x.maxAbs)), errOverTol: Math.max(...v.cmp.map((x) => x.maxRatio)),
      outputs: v.cmp, hostRefMs: v.hostMs, us: t?.us ?? null, reps: t?.reps ?? 0, bytes, GBps,
      copyFrac: GBps !== null && copyGBps ? GBps / copyGBps : null, TFLOPs: tc.flops && t ? tc.flops / t.us / 1e6 : null,
    };
    kernelResults.push(row);
    log(`${c.name.padEnd(28)} ${tc.shape.slice(0, 22).padEnd(22)} ${pad(row.ok ? "yes" : "NO", 3)} ${pad(row.bad, 7)} ${pad(ex(row.maxAbsErr), 9)} ${pad(fx(row.errOverTol, 2), 7)} ${pad(fx(row.us, 1), 9)} ${pad(fx(GBps, 0), 7)} ${pad(row.copyFrac === null ? "-" : (100 * row.copyFrac).toFixed(0), 5)} ${pad(fx(row.TFLOPs, 1), 7)}${anchorNote(c.name, row.us)}`);
    if (!row.ok) {
      const j = v.cmp.findIndex((x) => x.bad > 0);
      log(`    output ${j}: first bad element ${v.cmp[j].firstBad}, ${v.cmp[j].bad} of ${c.outs[j].n} outside tolerance`);
    }
  }
  delete childState.kernelNext; // finished normally
  if (skipped) log(`kernels: ${skipped} case(s) SKIPPED (budget spent)`);
  if (DEV !== WHERE.cuda) log("(host device: times are wall-clock CPU reference times, not device times)");
  log(failures ? `kernels: ${failures} FAILURE(S)` : `kernels: all ${kernelResults.length} cases match the host reference`);
  return { copyGBps, validateBatch: VBATCH, timingBatch: timing ? BATCH : null, failures, skipped, rows: kernelResults };
});

// ---------------------------------------------------------------- (c) step parity
// Batch >= 8: at batch 4 the BatchNorm'd projector / predictor and the contrastive loss make
// the step ill-conditioned (two fp32 CPU engines, tfjs cpu and native, then differ by ~6e-4 in
// the gradients; at batch 16, by ~7e-6), which would hide the precision being checked.
const PARITY = quick
  ? { vit: "micro32", batch: 16 }
  : { vit: opt("--parity-vit", "vit-small"), batch: Number(opt("--parity-batch", "16")) };
// The fp32 noise floor: the same step on tfjs's pure-JS cpu backend (another fp32 engine); too
// slow for vit-small, so on by default only with --quick.
const PARITY_FLOOR = has("--parity-floor") || quick;
const PARITY_PRECISIONS = opt("--parity-precisions", quick ? "fp32,bf16" : "fp32,tf32,bf16").split(",");

function parityConfig() {
  return core.defaultMethodConfig({
    method: "mocov3", vit: core.VIT_PRESETS[PARITY.vit], tokenDrop: 0.75, dilemmaProb: 0.2,
    headHidden: 1024, headOut: 256, optim: { totalSteps: 1000, warmupSteps: 0 },
  });
}
/** Host copies of a map of tensors. */
function readAll(named) {
  const out = {};
  for (const [k, t] of Object.entries(named)) out[k] = { shape: t.shape.slice(), values: Float32Array.from(t.dataSync()) };
  return out;
}

/** One training step on the active backend from weights `w0`; returns what parity compares. */
function stepOnActiveBackend(w0, views, rngSeed) {
  const config = parityConfig();
  const method = core.createMethod(config);
  try {
    if (w0) {
      const ts = Object.fromEntries(Object.entries(w0).map(([k, v]) => [k, tf.tensor(v.values, v.shape, "float32")]));
      method.setWeights(ts);
      tf.dispose(Object.values(ts));
    }
    const init = w0 ? null : readAll(method.getWeights());
    const xs = views.map((v) => tf.tensor4d(v.values, v.shape, "float32"));
    const f0 = hasCudaBackend ? { ...native.cudaFallbackCounts() } : {};
    const t0 = performance.now();
    const r = method.trainStep(xs, 0, { seed: rngSeed, counter: 0 });
    const seconds = (performance.now() - t0) / 1000;
    const f1 = hasCudaBackend ? native.cudaFallbackCounts() : {};
    tf.dispose(xs);
    const st = method.getOptimizerState();
    const m = {}, buffers = {}, weights = {};
    for (const [k, v] of Object.entries(readAll(st.tensors))) if (k.startsWith("exp_avg/")) m[k.slice(8)] = v;
    const all = readAll(method.getWeights());
    for (const [k, v] of Object.entries(all)) (k in m ? weights : buffers)[k] = v;
    const fallbacks = Object.fromEntries(Object.entries(f1).map(([k, n]) => [k, n - (f0[k] ?? 0)]).filter(([, n]) => n > 0));
    return { init, result: r, m, buffers, weights, lr: r.lr, seconds, fallbacks, beta1: config.optim.betas[0] };
  } finally {
    method.dispose();
  }
}

/** ‖a-b‖ / max(‖b‖, floor): per-parameter relative error with a floor (see the parity section). */
function relErr(a, b) {
  let d = 0, n = 0;
  for (let i = 0; i < b.length; i++) { const x = a[i] - b[i]; d += x * x; n += b[i] * b[i]; }
  return { diff: Math.sqrt(d), norm: Math.sqrt(n) };
}

function compareSteps(ref, got, tol) {
  const lossKeys = ["loss", "sslLoss", "dilemmaLoss"];
  const losses = lossKeys.map((k) => {
    const a = got.result[k], b = ref.result[k];
    return { name: k, ref: b, got: a, rel: Math.abs(a - b) / Math.max(Math.abs(b), 1e-12) };
  });
  // Gradients g = m / (1 - b1) (AdamW's first moment after its first step). A parameter whose
  // gradient is tiny compared with the model's (e.g. the key bias of attention, exactly 0 in
  // exact arithmetic: softmax is shift-invariant) is judged against 1% of its share of the
  // global gradient norm, so rounding noise around 0 does not read as a 100% error.
  const names = Object.keys(ref.m);
  let gDiff2 = 0, gNorm2 = 0, total = 0;
  const per = names.map((k) => {
    const e = relErr(got.m[k].values, ref.m[k].values);
    gDiff2 += e.diff ** 2; gNorm2 += e.norm ** 2; total += ref.m[k].values.length;
    return { name: k, n: ref.m[k].values.length, ...e };
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
    const e = relErr(got.buffers[k].values, ref.buffers[k].values);
    const floor = 1e-3 * Math.sqrt(ref.buffers[k].values.length);
    return { name: k, rel: e.diff / Math.max(e.norm, floor), floored: e.norm < floor };
  }).sort((a, b) => b.rel - a.rel);
  // Weights after the step: AdamW's first update is ~lr·sign(g), so weights differ by ~2·lr
  // exactly where the two gradients' signs differ (tiny gradients): reported, not judged.
  let flips = 0, nw = 0;
  for (const k of Object.keys(ref.weights)) {
    const a = got.weights[k].values, b = ref.weights[k].values;
    for (let i = 0; i < b.length; i++) { if (Math.abs(a[i] - b[i]) > ref.lr) flips++; }
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

RUN.parity = () => section("parity", quick ? 400 : 90, async (budget, t0) => {
  if (!hasCudaBackend) throw new Error("@dilemma/native's dist has no useCudaBackend (rebuild it and repack)");
  const left = () => budget - (performance.now() - t0) / 1000;
  const cfg = parityConfig();
  const { imgSize, inChans } = cfg.vit;
  log(`MoCo v3 + DILEMMA, ViT ${PARITY.vit} (${imgSize} px, patch ${cfg.vit.patchSize}, D ${cfg.vit.embedDim}, depth ${cfg.vit.depth}), batch ${PARITY.batch}, drop 0.75, p 0.2, projector 1024/256; one step from the same weights, images and rng`);
  await native.useNativeBackend();
  const views = [17, 18].map((seed) => {
    const t = tf.randomNormal([PARITY.batch, inChans, imgSize, imgSize], 0, 1, "float32", seed);
    const v = { shape: t.shape.slice(), values: Float32Array.from(t.dataSync()) };
    t.dispose();
    return v;
  });
  // Weights: the native engine's initialisation, read back and set on every cuda run.
  const ref = stepOnActiveBackend(null, views, 5);
  const w0 = ref.init;
  log(`native (CPU) step: ${ref.seconds.toFixed(2)} s, loss ${ref.result.loss.toFixed(6)} (ssl ${ref.result.sslLoss.toFixed(6)}, dilemma ${ref.result.dilemmaLoss.toFixed(6)})`);
  // The reference step above changed nothing in w0 (read before the step).
  const rows = [];
  let floor = null;
  if (PARITY_FLOOR) {
    await tf.setBackend("cpu");
    tf.backend().firstUse = false; // no "install tfjs-node" banner
    const cpu = stepOnActiveBackend(w0, views, 5);
    floor = compareSteps(ref, cpu, PARITY_TOL.fp32);
    log(`fp32 noise floor, tfjs cpu vs native (both fp32 CPU engines): losses ${floor.losses.map((l) => ex(l.rel)).join(", ")}; gradients global ${ex(floor.gradGlobalRel)}, worst ${floor.gradWorst[0].name} ${ex(floor.gradWorst[0].rel)}`);
  }
  for (const p of PARITY_PRECISIONS) {
    if (left() < 10) { log(`parity ${p}: SKIPPED (budget spent)`); rows.push({ precision: p, skipped: true }); continue; }
    await native.useCudaBackend({ device: deviceKind, precision: p });
    native.setMatmulPrecision(p);
    const got = stepOnActiveBackend(w0, views, 5);
    const tol = PARITY_TOL[p];
    const c = compareSteps(ref, got, tol);
    parityResults[p] = c;
    rows.push({ precision: p, seconds: got.seconds, ...c });
    log(`cuda/${p} (${deviceKind}) step ${got.seconds.toFixed(2)} s: ${c.ok ? "PASS" : "FAIL"}`);
    log(`  losses rel err ${c.losses.map((l) => `${l.name} ${ex(l.rel)}`).join(", ")} (tol ${ex(tol.loss)})${c.lossOk ? "" : "  <-- over"}`);
    log(`  gradients: global ${ex(c.gradGlobalRel)}, worst of ${c.params} params ${c.gradWorst.slice(0, 3).map((g) => `${g.name} ${ex(g.rel)}${g.floored ? "*" : ""}`).join(", ")} (tol ${ex(tol.grad)}; ${c.gradOver} over)`);
    log(`  buffers (momentum encoder, BN statistics): worst ${c.bufferWorst.map((b) => `${b.name} ${ex(b.rel)}${b.floored ? "*" : ""}`).join(", ")}; weights differing by > lr (AdamW sign flips): ${(100 * c.signFlipFraction).toFixed(3)}%`);
    if (!c.fallbackOk) log(`  cpu fallbacks during the step: ${JSON.stringify(c.fallbacks)}`);
    if (!c.ok) result.failures.push(`parity ${p}: ${c.lossOk ? "" : "losses "}${c.gradOk ? "" : "gradients "}${c.bufOk ? "" : "buffers "}${c.fallbackOk ? "" : "fallbacks"}`.trim());
  }
  log("(* = ~0 by construction, so judged against a floor: a gradient against 1% of its share of the global gradient norm, a buffer against an RMS of 1e-3)");
  await native.useNativeBackend();
  return { vit: PARITY.vit, batch: PARITY.batch, refSeconds: ref.seconds, refLosses: ref.result, floor, rows };
});

// ---------------------------------------------------------------- (e) PyTorch reference
const TP_PRESETS = quick ? ["micro32"] : ["vits16", "vits16-dense-baseline"];
if (!has("--no-torch")) {
  RUN.torch = () => section("torch", quick ? 120 : 100, async (budget) => {
    if (!existsSync(torchScript)) throw new Error(`${torchScript} is missing`);
    // give our cached blocks (and the cuda backend's spare buffers) back before PyTorch allocates
    tf.findBackend("cuda")?.releaseSpareBuffers?.();
    if (DEV === WHERE.cuda && G.runtimeInfo().device) G.emptyCache();
    const pyArgs = [torchScript, ...TP_PRESETS.flatMap((p) => ["--preset", p]), "--device", deviceKind === "cuda" ? "cuda" : "cpu",
      "--amp", "bf16", "--steps", quick ? "2" : "10", "--warmup", quick ? "1" : "3", "--budget-s", String(Math.floor((budget - 25) / TP_PRESETS.length)),
      ...(quick ? ["--batch", "4", "--threads", "2"] : []), ...(OUT ? ["--out", join(OUT, "torch.json")] : [])];
    log(`${python} ${pyArgs.join(" ")}`);
    const env = { ...process.env };
    if (env.DILEMMA_LDPATH_ADDED) { // cuda-check.sh added the toolkit for our cuBLAS; PyTorch has its own
      if (env.DILEMMA_ORIG_LD_LIBRARY_PATH) env.LD_LIBRARY_PATH = env.DILEMMA_ORIG_LD_LIBRARY_PATH;
      else delete env.LD_LIBRARY_PATH;
    }
    const py = spawnSync(python, pyArgs, { encoding: "utf8", timeout: budget * 1000, maxBuffer: 1 << 26, env });
    const err = (py.stderr ?? "").trim();
    if (err) log(err.split("\n").slice(-8).map((l) => `  | ${l}`).join("\n"));
    const last = (py.stdout ?? "").trim().split("\n").pop() ?? "";
    let j = null;
    try { j = JSON.parse(last); } catch { /* reported below */ }
    if (py.status !== 0 || !j || !j.train) throw new Error(`PyTorch run failed (status ${py.status}${py.error ? ", " + py.error.message : ""}): ${last.slice(0, 300)}`);
    torchRes = j;
    log(`PyTorch ${j.env.torch} on ${j.env.gpu ?? j.env.device}: ${Object.values(j.train).map((r) => `${r.preset} ${r.images_per_s.toFixed(1)} img/s (${r.steps_timed} steps, batch ${r.batch})`).join("; ")}`);
    return { torch: j };
  });
}

// ---------------------------------------------------------------- (d) throughput
const THR = quick
  ? { presets: [["micro32", 4], ["tiny32-dense-baseline", 4]], precisions: ["bf16"], steps: 2, warmup: 1, budget: 60 }
  : { presets: [["vits16", undefined], ["vits16-dense-baseline", undefined]], precisions: opt("--throughput-precisions", "bf16,tf32").split(","), steps: 10, warmup: 2, budget: 32 };
const THR_BUDGET = quick ? 400 : 130;
RUN.throughput = () => section("throughput", THR_BUDGET, async (budget, t0) => {
  if (!hasCudaBackend) throw new Error("@dilemma/native's dist has no useCudaBackend (rebuild it and repack)");
  const left = () => budget - (performance.now() - t0) / 1000;
  // cpu s/step: process CPU time per step; close to the median step time means the step is bound
  // by the JS side launching kernels, not by the GPU.
  log(`${"preset".padEnd(22)} ${"prec".padEnd(5)} ${pad("batch", 5)} ${pad("img/s", 8)} ${pad("median s", 9)} ${pad("min s", 7)} ${pad("max s", 7)} ${pad("cpu s", 7)} ${pad("steps", 5)} ${pad("GPU peak GiB", 12)} fallbacks`);
  // bf16 of both presets first (the comparison with PyTorch), then tf32
  const only = opt("--thr-only", null); // "preset:precision": one configuration (a child process each)
  for (const precision of THR.precisions) {
    for (const [preset, batch] of THR.presets) {
      if (only && only !== `${preset}:${precision}`) continue;
      if (left() < 15) { log(`${preset} ${precision}: SKIPPED (budget spent)`); thrResults.push({ preset, precision, skipped: true }); continue; }
      const f0 = { ...native.cudaFallbackCounts() };
      let r;
      try {
        r = await native.benchTrainStep({ preset, engine: "cuda", precision, cudaDevice: deviceKind, steps: THR.steps, warmup: THR.warmup,
          budgetSeconds: Math.min(THR.budget, left() - 10), ...(batch ? { batch } : {}) });
      } catch (e) {
        log(`${preset} ${precision}: ERROR ${e.message}`);
        thrResults.push({ preset, precision, error: e.message });
        if (/fallback/.test(e.message)) result.failures.push(`throughput ${preset} ${precision}: ${e.message}`);
        continue;
      }
      const f1 = native.cudaFallbackCounts();
      const fallbacks = Object.fromEntries(Object.entries(f1).map(([k, n]) => [k, n - (f0[k] ?? 0)]).filter(([, n]) => n > 0));
      const peak = r.gpuMemory ? r.gpuMemory.peakAllocatedBytes / 2 ** 30 : null;
      const row = { preset, precision, batch: r.batch, imagesPerSecond: r.imagesPerSecond, stepSecondsMedian: r.stepSecondsMedian,
        stepSecondsMin: r.stepSecondsMin, stepSecondsMax: r.stepSecondsMax, cpuSecondsMedian: r.cpuSecondsMedian, steps: r.steps, stepSeconds: r.stepSeconds, lastLoss: r.lastLoss,
        gpuPeakGiB: peak, gpuMemory: r.gpuMemory ?? null, fallbacks };
      thrResults.push(row);
      if (Object.keys(fallbacks).length) result.failures.push(`throughput ${preset} ${precision}: cpu fallbacks ${JSON.stringify(fallbacks)}`);
      log(`${preset.padEnd(22)} ${precision.padEnd(5)} ${pad(r.batch, 5)} ${pad(fx(r.imagesPerSecond, 1), 8)} ${pad(fx(r.stepSecondsMedian, 4), 9)} ${pad(fx(r.stepSecondsMin, 4), 7)} ${pad(fx(r.stepSecondsMax, 4), 7)} ${pad(fx(r.cpuSecondsMedian, 3), 7)} ${pad(r.steps, 5)} ${pad(fx(peak, 2), 12)} ${Object.keys(fallbacks).length ? JSON.stringify(fallbacks) : "0"}`);
    }
  }
  if (deviceKind === "cuda") log(ISOLATE || CHILD ? "(GPU peak: the allocator's peak in this configuration's own process)" : "(GPU peak: the allocator's peak since start-up, so it includes earlier sections; the first row's is its own)");
  return { rows: thrResults };
});

// ---------------------------------------------------------------- orchestration
// On a GPU each section that touches the device runs in its own child process (--child): a
// kernel that faults leaves its CUDA context unusable, which must not take the other sections
// (or the other kernels: the kernels child restarts after the failing case) with it. PyTorch is
// a subprocess anyway and runs from here.
// A child is killed after its section's budget + 40 s (a hung kernel must not eat the run).
const CHILD_LIMIT_S = { info: 30, kernels: quick ? 300 : 75, parity: quick ? 400 : 90, throughput: quick ? 400 : THR.budget + 30 };
function childRun(name, extra = []) {
  const file = join(os.tmpdir(), `cuda-check-${process.pid}-${name}-${Date.now()}.json`);
  const left = Math.max(5, Math.floor(TOTAL_BUDGET - elapsed()));
  const childArgs = [...args.filter((a, i) => !["--sections", "--budget"].includes(a) && !["--sections", "--budget"].includes(args[i - 1])),
    "--sections", name, "--budget", String(left), "--child", "--child-out", file, ...extra];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...childArgs], {
    encoding: "utf8", maxBuffer: 1 << 28, timeout: (Math.min(left, CHILD_LIMIT_S[name] ?? left) + 40) * 1000, env: process.env,
  });
  for (const l of `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")) if (l !== "" && !l.startsWith("logs: ")) log(l);
  let out = null;
  try { out = JSON.parse(readFileSync(file, "utf8")); } catch { /* crashed before writing */ }
  try { unlinkSync(file); } catch { /* absent */ }
  return { status: r.status, signal: r.signal, error: r.error, out, seconds: (performance.now() - t0) / 1000 };
}
function merge(name, c) {
  const o = c.out ?? {};
  if (o.sections?.[name]) result.sections[name] = { ...(result.sections[name] ?? {}), ...o.sections[name] };
  if (o.deviceName) result.deviceName = o.deviceName;
  result.failures.push(...(o.failures ?? []));
  kernelResults.push(...(o.kernelResults ?? []));
  Object.assign(parityResults, o.parityResults ?? {});
  thrResults.push(...(o.thrResults ?? []));
}
if (CHILD || !ISOLATE) {
  for (const name of ["info", "kernels", "parity", "torch", "throughput"]) if (SECTIONS.includes(name) && RUN[name]) await RUN[name]();
  if (CHILD) finishChild(0);
} else {
  for (const name of ["info", "kernels", "parity", "torch", "throughput"]) {
    if (!SECTIONS.includes(name) || !RUN[name]) continue;
    if (name === "torch") { await RUN.torch(); continue; }
    if (name === "throughput") { // one process per configuration: a crash costs one row
      const t0 = elapsed();
      for (const precision of THR.precisions) {
        for (const [preset] of THR.presets) {
          if (elapsed() - t0 > THR_BUDGET - 15 || TOTAL_BUDGET - elapsed() < 20) {
            log(`${preset} ${precision}: SKIPPED (throughput budget spent)`);
            thrResults.push({ preset, precision, skipped: true });
            continue;
          }
          const c = childRun(name, ["--thr-only", `${preset}:${precision}`]);
          merge(name, c);
          if (c.status !== 0 || c.signal) {
            const why = c.signal ? `signal ${c.signal}` : c.error ? c.error.message : `exit ${c.status}`;
            log(`throughput ${preset} ${precision}: child process ended abnormally (${why})`);
            result.failures.push(`throughput ${preset} ${precision}: process ended abnormally (${why})`);
            if (!thrResults.some((r) => r.preset === preset && r.precision === precision)) thrResults.push({ preset, precision, error: why });
          }
        }
      }
      save();
      continue;
    }
    let from = 0;
    for (let attempt = 0; attempt < 6; attempt++) {
      const c = childRun(name, name === "kernels" ? ["--kernel-from", String(from)] : []);
      merge(name, c);
      if (name === "info" && c.status === 2) finish(2);
      const next = c.out?.kernelNext;
      const crashed = c.status !== 0 || c.signal;
      if (name === "kernels" && crashed && c.out?.exitReason !== "sticky" && c.out?.kernelCurrent && next !== undefined) {
        kernelResults.push({ kernel: c.out.kernelCurrent, ok: false, error: "the process died in this case" });
      }
      if (crashed && c.out?.exitReason !== "sticky") {
        const why = c.signal ? `signal ${c.signal}` : c.error ? c.error.message : `exit ${c.status}`;
        log(`${name}: child process ended abnormally (${why}) after ${c.seconds.toFixed(0)} s`);
        result.failures.push(`${name}: child process ended abnormally (${why})`);
      }
      // kernels: restart after a case that broke the CUDA context (or crashed the process)
      if (name === "kernels" && crashed && next !== undefined && next < (c.out?.kernelCount ?? 0) && TOTAL_BUDGET - elapsed() > 20) {
        log(`kernels: restarting from case ${next + 1} in a fresh process`);
        from = next + 1;
        continue;
      }
      break;
    }
    save();
  }
}

// ---------------------------------------------------------------- (f) summary
log("\n== summary");
log(`device: ${result.deviceName ?? deviceKind}; date ${result.date}; total ${elapsed().toFixed(0)} s`);
const torchOf = (preset) => torchRes?.train?.[preset]?.images_per_s ?? null;
log(`${"preset".padEnd(22)} ${"ours".padEnd(10)} ${pad("img/s", 8)} ${pad("PyTorch", 8)} ${pad("ratio", 6)} ${pad("anchor", 7)} ${pad(">=0.5x", 6)} ${pad(">=1x", 5)}`);
const summaryRows = [];
for (const r of thrResults) {
  const t = torchOf(r.preset);
  const ratio = r.imagesPerSecond && t ? r.imagesPerSecond / t : null;
  const anchor = ANCHORS[r.preset] ?? null;
  const row = { preset: r.preset, precision: r.precision, ours: r.imagesPerSecond ?? null, torch: t, ratio, anchor,
    ratioToAnchor: r.imagesPerSecond && anchor ? r.imagesPerSecond / anchor : null,
    first: ratio === null ? null : ratio >= TARGET.first, goal: ratio === null ? null : ratio >= TARGET.goal };
  summaryRows.push(row);
  const yn = (v) => (v === null ? "-" : v ? "MET" : "no");
  log(`${r.preset.padEnd(22)} ${("cuda/" + r.precision).padEnd(10)} ${pad(fx(row.ours, 1), 8)} ${pad(fx(t, 1), 8)} ${pad(ratio === null ? "-" : ratio.toFixed(2) + "x", 6)} ${pad(anchor ?? "-", 7)} ${pad(yn(row.first), 6)} ${pad(yn(row.goal), 5)}`);
}
log("(ratio = ours / PyTorch eager bf16 measured in this run; anchor = PyTorch on an H200 from the issue; targets apply to bf16 on vits16)");
for (const p of SECTIONS.includes("parity") ? PARITY_PRECISIONS : []) {
  const c = parityResults[p];
  log(`parity cuda/${p} vs native: ${c ? (c.ok ? "PASS" : "FAIL") : "not run"}${c ? ` (loss rel ${ex(Math.max(...c.losses.map((l) => l.rel)))} / tol ${ex(c.tol.loss)}, worst gradient ${ex(c.gradWorst[0]?.rel)} / tol ${ex(c.tol.grad)})` : ""}`);
}
const kFail = kernelResults.filter((r) => !r.ok).length;
log(`kernels: ${kernelResults.length} cases, ${kFail} failed${kFail ? ": " + kernelResults.filter((r) => !r.ok).map((r) => r.kernel).join(", ") : ""}`);
if (kFail) result.failures.push(`kernels: ${kFail} case(s) failed`);
// merged over the child processes (each section's own entry holds only its last child's rows)
Object.assign(result, { kernels: kernelResults, parity: parityResults, throughput: thrResults, torch: torchRes });
result.summary = { rows: summaryRows, parity: Object.fromEntries(Object.entries(parityResults).map(([p, c]) => [p, c.ok])), kernelsFailed: kFail };
const parityRan = PARITY_PRECISIONS.every((p) => parityResults[p]);
if (!parityRan && SECTIONS.includes("parity")) result.failures.push("parity: not every precision ran");
log(result.failures.length ? `RESULT: FAIL (${result.failures.join("; ")})` : "RESULT: PASS (kernels and step parity within tolerance)");
finish(result.failures.length ? 1 : 0);
