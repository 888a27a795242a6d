#!/usr/bin/env node
/* global console, performance, process */
// Host-side (JavaScript) cost of one training step on the `cuda` backend, without a GPU, on the
// addon's host device. On a GPU the addon's kernel calls only enqueue work, so the JS — tfjs'
// engine, gradient tape, our kernels' shape logic — is the floor of the step time when the GPU
// keeps up: batch / (this) bounds img/s from the JS side. Two measurements of it:
//  - enqueue-only (the headline): the kernel entry points return at once (alloc/free/upload/
//    download still run), so a step is the JavaScript alone with warm caches, as on a GPU. The
//    outputs are garbage then; no JS path depends on their values.
//  - subtracted: the kernels run their CPU reference and the time inside addon calls is
//    subtracted. This overstates the JS (it then runs on caches the reference kernels just
//    evicted); it is what this script printed before 2026-12-02, kept for comparison.
//   node scripts/host-overhead.mjs [--preset vits16] [--steps 20] [--kernels]
// --kernels also profiles one more step (tf.profile): its tfjs kernels by name, and peak tensor memory.
import * as tf from "@tensorflow/tfjs-core";
import { createMethod } from "@dilemma/core";
import { BENCH_PRESETS, addon, benchMethodConfig, registerCudaBackend } from "../dist/index.js";

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : def);
const preset = opt("preset", "vits16");
const steps = Number(opt("steps", "20"));
const gpu = addon()?.gpu;
if (!gpu) throw new Error("the addon with its gpu runtime is required (npm run build:addon -w @dilemma/native)");
// The runtime's own calls; every other gpu function is a kernel (they all return nothing).
const RUNTIME = new Set(["runtimeInfo", "init", "alloc", "free", "upload", "download", "copy", "synchronize", "emptyCache",
  "memory", "eventRecord", "eventElapsedMs", "eventFree", "setMatmulPrecision", "dilemmaCheck"]);
let inAddon = 0, calls = 0, enqueueOnly = false;
for (const name of Object.keys(gpu)) {
  const f = gpu[name];
  if (typeof f !== "function") continue;
  const kernel = !RUNTIME.has(name);
  gpu[name] = (...a) => {
    const t = performance.now();
    try { return enqueueOnly && kernel ? undefined : f.apply(gpu, a); } finally { inAddon += performance.now() - t; calls++; }
  };
}
registerCudaBackend({ device: "host" });
await tf.setBackend("cuda");
tf.enableProdMode();
const config = benchMethodConfig(preset);
const method = createMethod(config);
// batch 2: the JS work per step does not depend on the batch (BatchNorm needs >= 2)
const views = [0, 1].map((i) => tf.randomNormal([2, config.vit.inChans, config.vit.imgSize, config.vit.imgSize], 0, 1, "float32", i));
const rng = { seed: 1, counter: 0 };
// warm-up (the JIT), then each measurement
for (let s = 0; s < 3; s++) method.trainStep(views, s, rng);
let step = 3;
function measure() {
  const rows = [];
  for (let i = 0; i < steps; i++) {
    inAddon = 0; calls = 0;
    const t0 = performance.now();
    method.trainStep(views, step++, rng);
    const wall = performance.now() - t0;
    rows.push({ js: wall - inAddon, calls });
  }
  rows.sort((a, b) => a.js - b.js);
  return { med: rows[rows.length >> 1], min: rows[0] };
}
const subtracted = measure();
enqueueOnly = true;
measure(); // warm-up of the enqueue-only path
const enqueue = measure();
enqueueOnly = false;
console.log(`${preset}: host-side JS ${enqueue.med.js.toFixed(1)} ms/step enqueue-only (median of ${steps}; min ${enqueue.min.js.toFixed(1)}), ` +
  `${subtracted.med.js.toFixed(1)} ms/step subtracted (min ${subtracted.min.js.toFixed(1)}), ${subtracted.med.calls} addon calls/step`);
const batch = BENCH_PRESETS[preset].batch;
console.log(`-> JS-bound ceiling at the preset's batch ${batch}: ${(batch / (enqueue.med.js / 1000)).toFixed(0)} img/s (before the per-launch cost on the GPU)`);
if (args.includes("--kernels")) {
  const prof = await tf.profile(() => { method.trainStep(views, step++, rng); });
  const byName = new Map();
  for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
  const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([n, c]) => `${n} ${c}`).join(", ");
  console.log(`tfjs kernels/step: ${prof.kernels.length} (${top}); peak tensor memory ${(prof.peakBytes / 2 ** 20).toFixed(0)} MiB`);
}
method.dispose();
tf.dispose(views);
