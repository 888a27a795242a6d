#!/usr/bin/env node
/* global process, console, performance */
// Images/s the data loader delivers: `shapes` at 32 px, batch 64, MoCo v3 recipe (2 views),
// with 0/1/2 worker threads. Imports the built dist (npm run build -w dilemma-cli); when that is
// missing, compiles src/data alone with esbuild. Usage: node scripts/bench-loader.mjs [batches] [repeats]
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const batches = Number(process.argv[2] ?? 20);
const repeats = Number(process.argv[3] ?? 3);

async function loadModule() {
  const dist = join(here, "../dist/data/index.js");
  if (existsSync(dist)) return { mod: await import(pathToFileURL(dist).href), from: "dist" };
  const { build } = await import("esbuild");
  const src = join(here, "../src/data");
  const out = join(here, "../node_modules/.cache/bench-data"); // in node_modules so sharp resolves
  await build({
    entryPoints: readdirSync(src).filter((f) => f.endsWith(".ts")).map((f) => join(src, f)),
    outdir: out,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  return { mod: await import(pathToFileURL(join(out, "index.js")).href), from: "src/data compiled with esbuild (no dist)" };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { mod, from } = await loadModule();
console.log(`data module: ${from}`);
const ds = await mod.openDataset("shapes:n=20000", { imageSize: 32 });

// Raw rendering speed of the procedural images (no augmentation).
const renders = [];
for (let r = 0; r < repeats; r++) {
  const t = performance.now();
  for (let i = 0; i < 2000; i++) ds.get("train", r * 2000 + i);
  renders.push(2000 / ((performance.now() - t) / 1000));
}
console.log(`shapes render 32px: ${median(renders).toFixed(0)} img/s (median of ${repeats})`);

for (const workers of [0, 1, 2]) {
  const rates = [];
  const cpuPerImg = [];
  for (let r = 0; r < repeats; r++) {
    const loader = new mod.Loader(ds, { split: "train", batchSize: 64, imageSize: 32, recipe: "mocov3", seed: r, workers, startStep: r * 1000 });
    for (let i = 0; i < 2; i++) await loader.next(); // warm-up: thread start, JIT
    const t = performance.now();
    const cpu0 = process.cpuUsage(); // counts all threads: shows cost per image on a busy machine
    for (let i = 0; i < batches; i++) await loader.next();
    rates.push((batches * 64) / ((performance.now() - t) / 1000));
    const cpu = process.cpuUsage(cpu0);
    cpuPerImg.push((cpu.user + cpu.system) / 1000 / (batches * 64));
    await loader.close();
  }
  console.log(`loader shapes 32px batch 64 mocov3 workers=${workers}: ${median(rates).toFixed(0)} img/s (median of ${repeats}; runs ${rates.map((x) => x.toFixed(0)).join(", ")}); CPU ${median(cpuPerImg).toFixed(3)} ms/img`);
}
