#!/usr/bin/env node
/* global process, console */
// Learning-curve parity, our side (docs/learning-curve-parity.md). Builds everything both
// trainers share and writes it to --out, then trains with @dilemma/core and logs the curve:
//   data.f32 / data.json    the MNIST digits, float32 [N, 3, 32, 32] (--data below)
//   batches.i32             [steps, batch] image index of every step (no augmentation; the second
//                           MoCo view is the horizontal flip of the first)
//   draws.i32 / draws.u8    every step's DILEMMA draw per query view: realPos, inputPos / labels
//   heldout.*               held-out images and their one fixed draw for the detection AUROC
//   init.json / init.bin    the initial weights (core's init, core's weights format)
//   ours.jsonl              per-step loss terms and lr, held-out AUROC every --eval-every steps
//   ours-final.*            the weights after the last step
// Then: /usr/bin/python3 packages/cli/scripts/curve/torch_trainer.py <out>
//   node packages/cli/scripts/curve/ours.mjs --variant mocov3|det --out DIR [--steps 300]
//     [--batch 16] [--lr 5e-4] [--warmup 30] [--eval-every 25] [--heldout 500] [--seed 0]
//     [--head-hidden 1024] [--head-out 256] [--engine native|cpu] [--stop-after N] [--data padded|cli]
// --stop-after N trains N steps of the --steps schedule (0: only export, e.g. for a PyTorch-only
// study with torch_trainer.py --init/--recipe); the draws of all --steps are written either way.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as core from "@dilemma/core";
import { selectEngine } from "../../dist/engine.js";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  if (i + 1 >= args.length) usage(`--${name} needs a value`);
  return args[i + 1];
};
function usage(msg) {
  console.error(`ours.mjs: ${msg}\nusage: node ours.mjs --variant mocov3|det --out DIR [--steps N] [--batch B] [--lr LR] [--warmup W] [--eval-every E] [--heldout H] [--seed S] [--head-hidden N] [--head-out N] [--engine native|cpu] [--stop-after N] [--data padded|cli]`);
  process.exit(2);
}
const num = (name, def, int = true) => {
  const v = Number(opt(name, String(def)));
  if (!Number.isFinite(v) || (int && !Number.isInteger(v)) || v < 0) usage(`--${name} must be a non-negative ${int ? "integer" : "number"}, got ${opt(name)}`);
  return v;
};
const variant = opt("variant", "mocov3");
if (variant !== "mocov3" && variant !== "det") usage(`--variant must be mocov3 or det, got ${variant}`);
const out = opt("out");
if (!out) usage("--out DIR is required");
const steps = num("steps", 300);
const B = num("batch", 16);
const lr = num("lr", 5e-4, false);
const warmup = num("warmup", 30);
const evalEvery = num("eval-every", 25);
const H = num("heldout", 500);
const seed = num("seed", 0);
const headHidden = num("head-hidden", 1024);
const headOut = num("head-out", 256);
const engineName = opt("engine", "native");
const stopAfter = Math.min(steps, num("stop-after", steps));
const dataKind = opt("data", "padded");
if (dataKind !== "padded" && dataKind !== "cli") usage(`--data must be padded or cli, got ${dataKind}`);
if (steps < 1 || B < 2 || H < 1 || evalEvery < 1) usage("--steps, --heldout and --eval-every must be >= 1 and --batch >= 2");

const engine = await selectEngine(engineName);
fs.mkdirSync(out, { recursive: true });
const write = (name, data) => {
  // atomic: a killed run never leaves a half-written file that the PyTorch side would read
  const tmp = path.join(out, `.${name}.tmp`);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, path.join(out, name));
};
const bytes = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

// ---- data: the 10,000 MNIST digits as float32 [N, 3, 32, 32], shuffled with a seeded permutation ----
//   padded: 28x28 padded to 32x32, (x - 0.13) / 0.31 (../shared/bench/det_learnability.py)
//   cli:    what `dilemma-cli train --data mnist` feeds: resized to 32 (resizeCoverRgb), ImageNet mean/std
const S = 32, SIDE = 28, PLANE = S * S;
const require = createRequire(import.meta.url);
let images, N;
if (dataKind === "padded") {
  const PAD = 2;
  const grey = [];
  for (let d = 0; d < 10; d++) {
    const raw = require(`mnist/src/digits/${d}.json`).data;
    for (let i = 0; i < raw.length / (SIDE * SIDE); i++) grey.push(raw.slice(i * SIDE * SIDE, (i + 1) * SIDE * SIDE));
  }
  N = grey.length;
  const mean = Math.fround(0.13), std = Math.fround(0.31);
  images = new Float32Array(N * 3 * PLANE).fill(Math.fround((0 - mean) / std));
  grey.forEach((g, n) => {
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        const v = (Math.fround(g[r * SIDE + c]) - mean) / std;
        for (let ch = 0; ch < 3; ch++) images[(n * 3 + ch) * PLANE + (r + PAD) * S + c + PAD] = v;
      }
    }
  });
} else {
  const { openMnist } = await import("../../dist/data/mnist.js");
  const { NORMALIZE } = await import("../../dist/data/augment.js");
  const ds = openMnist("mnist", {}, S);
  const all = ["train", "val", "test"].flatMap((split) => Array.from({ length: ds.size(split) }, (_, i) => ds.get(split, i)));
  N = all.length;
  images = new Float32Array(N * 3 * PLANE);
  all.forEach((smp, n) => {
    for (let ch = 0; ch < 3; ch++) {
      for (let i = 0; i < PLANE; i++) images[(n * 3 + ch) * PLANE + i] = (smp.pixels[i * 3 + ch] / 255 - NORMALIZE.mean[ch]) / NORMALIZE.std[ch];
    }
  });
}
// The class-ordered digits get a seeded shuffle (Philox uniforms, argsort) before the held-out cut.
const perm = Array.from(core.philoxUniforms(seed + 7, 0, 2, 0, N)).map((u, i) => [u, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
const heldout = Int32Array.from(perm.slice(N - H));
const train = perm.slice(0, N - H);
const batches = new Int32Array(steps * B);
for (let s = 0; s < steps; s++) {
  const u = core.philoxUniforms(seed + 11, s, 3, 0, B);
  for (let b = 0; b < B; b++) batches[s * B + b] = train[Math.floor(u[b] * train.length)];
}
write("data.f32", bytes(images));
write("batches.i32", bytes(batches));
write("heldout.i32", bytes(heldout));

/** [n, 3, S, S] float32 of the given images, optionally flipped left-right. */
function gather(idx, flip = false) {
  const x = new Float32Array(idx.length * 3 * PLANE);
  idx.forEach((n, b) => {
    for (let row = 0; row < 3 * S; row++) {
      const src = n * 3 * PLANE + row * S, dst = b * 3 * PLANE + row * S;
      for (let c = 0; c < S; c++) x[dst + c] = images[src + (flip ? S - 1 - c : c)];
    }
  });
  return tf.tensor4d(x, [idx.length, 3, S, S]);
}

// ---- model ----
const config = core.defaultMethodConfig({
  method: "mocov3", vit: core.VIT_PRESETS.micro32, headHidden, headOut, seed,
  optim: { lr, warmupSteps: warmup, totalSteps: steps },
});
const numPatches = (config.vit.imgSize / config.vit.patchSize) ** 2;
const K = core.numKept(numPatches, config.tokenDrop);
let method, encoder, head, optimizer, named;
if (variant === "mocov3") {
  method = core.createMethod(config);
  encoder = method.encoder;
  head = method.dilemmaHead;
  named = method.getWeights();
} else {
  // Detection only: the encoder and head MoCo v3 would build (same seeds), trained on the BCE alone.
  encoder = new core.ViT(config.vit, { seed });
  head = new core.DetectionHead(encoder.embedDim, { seed });
  const params = new Map([...core.prefixed("base_encoder.", encoder.params), ...core.prefixed("dilemma_head.", head.params)]);
  optimizer = new core.AdamW(params, { lr, weightDecay: config.optim.weightDecay, betas: config.optim.betas, eps: config.optim.eps });
  named = Object.fromEntries(params);
}
async function saveWeights(name) {
  const { modelJson, data } = await core.encodeWeights(named);
  write(`${name}.bin`, new Uint8Array(data));
  write(`${name}.json`, JSON.stringify(modelJson));
}
await saveWeights("init");

// held-out: one fixed draw (its own seed), the same at every evaluation and on both sides
const hd = core.sampleDilemma({ batch: H, numPatches, tokenDrop: config.tokenDrop, dilemmaProb: config.dilemmaProb, rng: { seed: seed + 123, counter: 0 } });
write("heldout_draw.i32", bytes(Int32Array.from([...hd.realPos, ...hd.inputPos])));
write("heldout_draw.u8", Uint8Array.from(hd.labels));
function heldoutAuroc() {
  const logits = [];
  for (let i = 0; i < H; i += 250) {
    const n = Math.min(250, H - i);
    const l = tf.tidy(() => {
      const x = gather(heldout.subarray(i, i + n));
      const realPos = tf.tensor2d(hd.realPos.subarray(i * K, (i + n) * K), [n, K], "int32");
      const inputPos = tf.tensor2d(hd.inputPos.subarray(i * K, (i + n) * K), [n, K], "int32");
      return head.logits(encoder.forward(x, { realPos, inputPos }).patches);
    });
    logits.push(...l.dataSync());
    l.dispose();
  }
  return core.detectionMetrics(logits, hd.labels).auroc;
}

// ---- training ----
const nViews = variant === "mocov3" ? 2 : 1;
// Every step's draws, made up front with the sampler and rng state the trainer uses (the step
// draws its nViews samples at counters nViews*s ...); the loop checks that it drew exactly these.
const drawPos = new Int32Array(steps * nViews * 2 * B * K);
const drawLab = new Uint8Array(steps * nViews * B * K);
const peek = { seed, counter: 0 };
for (let s = 0; s < steps; s++) {
  for (let v = 0; v < nViews; v++) {
    const d = core.sampleDilemma({ batch: B, numPatches, tokenDrop: config.tokenDrop, dilemmaProb: config.dilemmaProb, rng: peek });
    const o = (s * nViews + v) * B * K;
    drawPos.set(d.realPos, 2 * o);
    drawPos.set(d.inputPos, 2 * o + B * K);
    drawLab.set(d.labels, o);
  }
}
write("draws.i32", bytes(drawPos));
write("draws.u8", drawLab);
write("data.json", JSON.stringify({ variant, data: dataKind, images: N, size: S, steps, batch: B, K, heldout: H, views: nViews }));
const rng = { seed, counter: 0 };
const log = [JSON.stringify({ kind: "meta", variant, data: dataKind, engine: engine.name, steps, stopAfter, evalEvery, batch: B, lr, warmup, heldout: H, seed, K, config })];
const t0 = Date.now();
log.push(JSON.stringify({ kind: "eval", step: 0, auroc: heldoutAuroc() }));
for (let s = 0; s < stopAfter; s++) {
  const idx = batches.subarray(s * B, (s + 1) * B);
  let res;
  if (variant === "mocov3") {
    const views = [gather(idx), gather(idx, true)];
    res = method.trainStep(views, s, rng);
    tf.dispose(views);
  } else {
    const d = core.sampleDilemma({ batch: B, numPatches, tokenDrop: config.tokenDrop, dilemmaProb: config.dilemmaProb, rng });
    const stepLr = core.cosineLr(s, config.optim);
    const value = tf.tidy(() => {
      const x = gather(idx);
      const { realPos, inputPos, labels } = core.sampleToTensors(d);
      const { value, grads } = tf.variableGrads(() => core.bceWithLogits(head.logits(encoder.forward(x, { realPos, inputPos }).patches), labels), [...Object.values(named)]);
      const byName = new Map(Object.entries(named).map(([n, v]) => [n, grads[v.name]]));
      optimizer.apply(byName, stepLr);
      return value;
    });
    const l = value.dataSync()[0];
    value.dispose();
    res = { loss: l, sslLoss: 0, dilemmaLoss: l, lr: stepLr };
  }
  if (rng.counter !== (s + 1) * nViews) throw new Error(`step ${s}: the trainer made ${rng.counter - s * nViews} draws, ${nViews} were recorded`);
  log.push(JSON.stringify({ kind: "train", step: s + 1, loss: res.loss, ssl: res.sslLoss, dilemma: res.dilemmaLoss, lr: res.lr }));
  if ((s + 1) % evalEvery === 0 || s + 1 === stopAfter) {
    const auroc = heldoutAuroc();
    log.push(JSON.stringify({ kind: "eval", step: s + 1, auroc }));
    console.error(`step ${s + 1}/${steps} loss ${res.loss.toFixed(5)} AUROC ${auroc.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}
await saveWeights("ours-final");
write("ours.jsonl", log.join("\n") + "\n");
console.error(`ours: ${stopAfter} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s on ${engine.name}; wrote ${out}`);
