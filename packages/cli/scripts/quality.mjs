#!/usr/bin/env node
/* global process, console */
// The quality benchmark: trains the default recipe (`dilemma-cli train` with no flags) for N
// seeds and prints held-out detection AUROC and kNN accuracy against wall time. Each run is the
// real command in its own process, so its time includes start-up, data loading and the final
// evaluation. The curve comes from extra evaluations every --curve-every steps; their cost is
// measured from metrics.jsonl and taken out of the time axis and of the total, so the times are
// those of a plain default run. Results go to a JSON file; scripts/quality-plot.py draws them.
//
// Usage: node scripts/quality.mjs [--seeds 0,1,2] [--curve-every 25] [--jobs 1] [--out runs/quality]
//          [--json results.json] [-- <extra train flags, e.g. --steps 400 --lr 0.001>]
// Needs the built cli (npm run build -w dilemma-cli).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "../bin/dilemma-cli.js");
const dash = process.argv.indexOf("--");
const own = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
const extra = dash < 0 ? [] : process.argv.slice(dash + 1);

function usage(msg) {
  console.error(`quality.mjs: ${msg}\nUsage: node scripts/quality.mjs [--seeds 0,1,2] [--curve-every 25] [--jobs 1] [--out runs/quality] [--json file] [-- train flags]`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    args: own,
    options: {
      seeds: { type: "string", default: "0,1,2" }, "curve-every": { type: "string", default: "25" }, jobs: { type: "string", default: "1" },
      out: { type: "string" }, json: { type: "string" },
    },
  }));
} catch (e) {
  usage(e.message);
}
const seeds = values.seeds.split(",").map((s) => Number(s));
if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) usage(`--seeds ${values.seeds}: expected whole numbers >= 0, e.g. 0,1,2`);
const curveEvery = Number(values["curve-every"]);
if (!Number.isInteger(curveEvery) || curveEvery < 1) usage(`--curve-every ${values["curve-every"]}: expected a whole number >= 1`);
// Concurrent runs share the cores: their times then say nothing about a plain run's.
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1) usage(`--jobs ${values.jobs}: expected a whole number >= 1`);
for (const f of ["--seed", "--out", "--eval-every", "--resume"]) if (extra.includes(f)) usage(`${f} is set by the benchmark; remove it after --`);
if (!existsSync(join(here, "../dist/index.js"))) usage("the cli is not built: run npm run build -w dilemma-cli first");
const outRoot = resolve(values.out ?? join("runs", `quality-${new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)}`));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const readLines = (file) => readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));

/** Runs one command, resolving with its wall time in seconds; stderr is kept for errors. */
function runTrain(args) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, "train", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    child.on("error", rej);
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) res({ seconds, out, err });
      else rej(new Error(`dilemma-cli train ${args.join(" ")} exited with ${code}:\n${err.slice(-2000)}`));
    });
  });
}

/**
 * The eval points of a run on the time axis of a plain run: each intermediate evaluation's
 * duration (the gap it leaves between two training steps, less a typical step) is removed from
 * everything after it, except for the evaluations a plain run makes as well.
 */
function curveOf(lines, finalStep, plainEvalEvery) {
  const train = lines.filter((l) => l.kind === "train");
  const byStep = new Map(train.map((l) => [l.step, l]));
  const gaps = train.slice(1).map((l, i) => l.time - train[i].time);
  const step = gaps.length ? median(gaps) : 0;
  let removed = 0;
  const points = [];
  for (const e of lines.filter((l) => l.kind === "eval")) {
    points.push({ step: e.step, time: e.time - removed, detAuroc: e.detAuroc, detAcc: e.detAcc, knnAcc: e.knnAcc });
    const next = byStep.get(e.step + 1);
    // The plain run evaluates every plainEvalEvery steps too: those stay in its time.
    if (e.step % plainEvalEvery !== 0 && next) removed += Math.max(0, next.time - e.time - step);
  }
  return { points, evalSeconds: removed, stepSeconds: step };
}

const results = [];
mkdirSync(outRoot, { recursive: true });
console.log(`quality benchmark: default recipe${extra.length ? ` + ${extra.join(" ")}` : ""}, seeds ${seeds.join(",")}, curve every ${curveEvery} steps${jobs > 1 ? `, ${jobs} at a time (times are shared-core times)` : ""}`);
console.log(`runs in ${outRoot}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log("seed  steps  wall s  train s/step  AUROC   det acc  kNN     load(1m)");

async function benchSeed(seed) {
  const dir = join(outRoot, `seed-${seed}`);
  rmSync(dir, { recursive: true, force: true });
  const loadBefore = loadavg()[0];
  const { seconds } = await runTrain(["--seed", String(seed), "--out", dir, "--eval-every", String(curveEvery), "--quiet", ...extra]);
  const loadAfter = loadavg()[0];
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const lines = readLines(join(dir, "metrics.jsonl"));
  // A plain run evaluates every ceil(steps / 2) steps (train's default) and at the end.
  const { points, evalSeconds, stepSeconds } = curveOf(lines, config.optim.steps, Math.max(1, Math.ceil(config.optim.steps / 2)));
  const last = points[points.length - 1];
  const r = {
    seed, steps: config.optim.steps, data: config.data.spec, wallSeconds: seconds - evalSeconds, measuredSeconds: seconds,
    curveEvalSeconds: evalSeconds, stepSeconds, detAuroc: last?.detAuroc, detAcc: last?.detAcc, knnAcc: last?.knnAcc,
    chance: config.data.numClasses > 0 ? 1 / config.data.numClasses : undefined, load: [loadBefore, loadAfter], jobs, curve: points, runDir: dir,
  };
  results.push(r);
  const f = (x, d = 3) => (x === undefined ? "  -  " : x.toFixed(d));
  console.log(`${String(seed).padEnd(6)}${String(r.steps).padEnd(7)}${f(r.wallSeconds, 1).padEnd(8)}${f(stepSeconds, 3).padEnd(14)}${f(r.detAuroc).padEnd(8)}${f(r.detAcc).padEnd(9)}${f(r.knnAcc).padEnd(8)}${loadBefore.toFixed(1)}-${loadAfter.toFixed(1)}`);
}

const queue = [...seeds];
await Promise.all(Array.from({ length: Math.min(jobs, seeds.length) }, async () => {
  while (queue.length) await benchSeed(queue.shift());
}));
results.sort((a, b) => a.seed - b.seed);
const aurocs = results.map((r) => r.detAuroc ?? NaN);
console.log(`AUROC min ${Math.min(...aurocs).toFixed(3)}, median ${median(aurocs).toFixed(3)}; wall max ${Math.max(...results.map((r) => r.wallSeconds)).toFixed(1)} s`);
const file = resolve(values.json ?? join(outRoot, "quality.json"));
const summary = { createdAt: new Date().toISOString(), extraFlags: extra, curveEvery, results };
const tmp = `${file}.${process.pid}.tmp`;
writeFileSync(tmp, `${JSON.stringify(summary, null, 1)}\n`);
renameSync(tmp, file);
console.log(`results: ${file}\nplot:    /usr/bin/python3 ${join(here, "quality-plot.py")} ${file} quality.png`);
