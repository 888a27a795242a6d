import * as tf from "@tensorflow/tfjs-core";
import { createMethod } from "@dilemma/core";
import { addon, benchMethodConfig, registerCudaBackend } from "../dist/index.js";
const gpu = addon().gpu;
const runtime = new Set("runtimeInfo init alloc free upload download copy synchronize emptyCache memory eventRecord eventElapsedMs eventFree setMatmulPrecision dilemmaCheck".split(" "));
let inAddon = 0, calls = 0;
const skip = process.argv[2] === "skip";
for (const name of Object.keys(gpu)) { const f = gpu[name]; if (typeof f !== "function") continue; gpu[name] = (...a) => { const t = performance.now(); try { return (skip && !runtime.has(name)) ? undefined : f.apply(gpu, a); } finally { inAddon += performance.now() - t; calls++; } }; }
registerCudaBackend({ device: "host" });
await tf.setBackend("cuda");
tf.enableProdMode();
const config = benchMethodConfig("vits16");
const method = createMethod(config);
const views = [0, 1].map((i) => tf.randomNormal([2, config.vit.inChans, config.vit.imgSize, config.vit.imgSize], 0, 1, "float32", i));
const rng = { seed: 1, counter: 0 };
for (let s = 0; s < 5; s++) method.trainStep(views, s, rng);
const rows = [];
for (let s = 5; s < 45; s++) { inAddon = 0; const t = performance.now(); method.trainStep(views, s, rng); const w = performance.now() - t; rows.push({ w, js: w - inAddon }); }
rows.sort((a, b) => a.js - b.js);
console.log(`${skip ? "kernels skipped" : "kernels run"}: JS ${rows[20].js.toFixed(1)} ms/step median (min ${rows[0].js.toFixed(1)}), wall ${rows[20].w.toFixed(1)}`);
