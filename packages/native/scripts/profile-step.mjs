#!/usr/bin/env node
/* global process, console, performance */
// Per-kernel time of real training steps: wraps every kernel registered for the backend with a
// timer, runs warm-up + timed steps of benchTrainStep, prints kernels by total time.
//   node scripts/profile-step.mjs [--preset tiny32] [--engine native] [--steps 2] [--top 30]
import * as tf from "@tensorflow/tfjs-core";
import { benchTrainStep, registerNativeBackend } from "../dist/index.js";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const preset = opt("preset", "tiny32");
const engine = opt("engine", "native");
const steps = Number(opt("steps", "2"));
const top = Number(opt("top", "30"));
const detail = opt("detail", "").split(",").filter(Boolean);
if (engine === "native" && !registerNativeBackend()) throw new Error("native addon unavailable");

const stats = new Map();
let recording = false;
for (const k of tf.getKernelsForBackend(engine)) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, engine);
  tf.registerKernel({
    ...k,
    kernelFunc: (a) => {
      if (!recording) return inner(a);
      const t0 = performance.now();
      const r = inner(a);
      const dt = performance.now() - t0;
      const key = k.kernelName;
      const s = stats.get(key) ?? { ms: 0, calls: 0, shapes: new Map() };
      s.ms += dt;
      s.calls++;
      const sig = Object.values(a.inputs).map((t) => `[${t?.shape}]`).join("x");
      s.shapes.set(sig, (s.shapes.get(sig) ?? 0) + dt);
      stats.set(key, s);
      return r;
    },
  });
}
let stepMs = 0;
const r = await benchTrainStep({
  preset, engine, steps, warmup: 1,
  onStep: (sec, warm) => {
    if (warm) recording = true;
    else stepMs += sec * 1000;
  },
});
const total = [...stats.values()].reduce((a, s) => a + s.ms, 0);
console.log(`${preset} on ${engine}: ${r.imagesPerSecond.toFixed(1)} img/s; kernel time ${(total / steps).toFixed(0)} ms/step of ${(stepMs / steps).toFixed(0)} ms/step`);
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
for (const [name, s] of rows) {
  const worst = [...s.shapes.entries()].sort((a, b) => b[1] - a[1])[0];
  console.log(`${name.padEnd(22)} ${(s.ms / steps).toFixed(1).padStart(9)} ms/step ${String(s.calls / steps).padStart(6)} calls  ${(100 * s.ms / total).toFixed(1).padStart(5)}%   top: ${worst[0]} ${(worst[1] / steps).toFixed(1)} ms`);
}
for (const name of detail) {
  const s = stats.get(name);
  if (!s) continue;
  console.log(`-- ${name} by input shapes`);
  for (const [sig, ms] of [...s.shapes.entries()].sort((a, b) => b[1] - a[1])) console.log(`   ${(ms / steps).toFixed(1).padStart(9)} ms/step  ${sig}`);
}
