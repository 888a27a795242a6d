#!/usr/bin/env node
/* global console, performance, process */
// Host-side (JavaScript) cost of one training step on the `cuda` backend, without a GPU: runs
// the step on the addon's host device and subtracts the time spent inside addon calls (there,
// the CPU reference kernels). On a GPU those calls only enqueue work, so what remains — tfjs'
// engine, gradient tape, our kernels' shape logic — is the floor of the step time when the GPU
// keeps up: batch / (this) bounds img/s from the JS side.
//   node scripts/host-overhead.mjs [--preset vits16] [--steps 3] [--kernels]
// --kernels also profiles one more step (tf.profile): its tfjs kernels by name, and peak tensor memory.
import * as tf from "@tensorflow/tfjs-core";
import { createMethod } from "@dilemma/core";
import { BENCH_PRESETS, addon, benchMethodConfig, registerCudaBackend } from "../dist/index.js";

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : def);
const preset = opt("preset", "vits16");
const steps = Number(opt("steps", "3"));
const gpu = addon()?.gpu;
if (!gpu) throw new Error("the addon with its gpu runtime is required (npm run build:addon -w @dilemma/native)");
let inAddon = 0, calls = 0;
for (const name of Object.keys(gpu)) {
  const f = gpu[name];
  if (typeof f !== "function") continue;
  gpu[name] = (...a) => {
    const t = performance.now();
    try { return f.apply(gpu, a); } finally { inAddon += performance.now() - t; calls++; }
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
method.trainStep(views, 0, rng);
const rows = [];
for (let s = 1; s <= steps; s++) {
  inAddon = 0; calls = 0;
  const t0 = performance.now();
  method.trainStep(views, s, rng);
  const wall = performance.now() - t0;
  rows.push({ js: wall - inAddon, calls });
}
rows.sort((a, b) => a.js - b.js);
const med = rows[rows.length >> 1];
console.log(`${preset}: host-side JS ${med.js.toFixed(1)} ms/step (median of ${steps}; min ${rows[0].js.toFixed(1)}), ${med.calls} addon calls/step`);
const batch = BENCH_PRESETS[preset].batch;
console.log(`-> JS-bound ceiling at the preset's batch ${batch}: ${(batch / (med.js / 1000)).toFixed(0)} img/s (before the per-launch cost on the GPU)`);
if (args.includes("--kernels")) {
  const prof = await tf.profile(() => { method.trainStep(views, steps + 1, rng); });
  const byName = new Map();
  for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
  const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([n, c]) => `${n} ${c}`).join(", ");
  console.log(`tfjs kernels/step: ${prof.kernels.length} (${top}); peak tensor memory ${(prof.peakBytes / 2 ** 20).toFixed(0)} MiB`);
}
method.dispose();
tf.dispose(views);
