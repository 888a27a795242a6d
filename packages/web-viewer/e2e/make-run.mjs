/* global process, console, Buffer */
// Stand-in for `dilemma-cli train` (used only while the cli cannot train): a short REAL training
// run with @dilemma/core (MoCo v3 + DILEMMA, tiny ViT, CPU) on synthetic shape images, written in
// the run format of docs/run-format.md.
//   node e2e/make-run.mjs <out dir> [steps]
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as core from "@dilemma/core";
import { encodePng } from "./png.mjs";

const [out, stepsArg] = process.argv.slice(2);
if (!out) throw new Error("usage: node e2e/make-run.mjs <out dir> [steps]");
const STEPS = Number(stepsArg ?? 20);
const SIZE = 32, BATCH = Number(process.env.E2E_BATCH ?? 4), CKPT_EVERY = 10;
const CLASSES = ["circle", "square", "triangle", "cross"];
const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

await tf.setBackend("cpu");

const writeAtomic = (file, data) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
};
const writeJson = (file, v) => writeAtomic(file, JSON.stringify(v, null, 2) + "\n");

// Deterministic small PRNG for the data (the model's randomness is core's Philox).
let s = 12345;
const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);

/** A coloured shape on a two-tone background: RGB bytes [SIZE*SIZE*3]. */
function shapeImage(label) {
  const px = new Uint8Array(SIZE * SIZE * 3);
  const bg = [rand() * 90, rand() * 90, 60 + rand() * 90];
  const fg = [150 + rand() * 105, 120 + rand() * 135, rand() * 120];
  const cx = 10 + rand() * 12, cy = 10 + rand() * 12, r = 6 + rand() * 4;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const dx = x - cx, dy = y - cy;
      const inside = label === 0 ? dx * dx + dy * dy < r * r
        : label === 1 ? Math.abs(dx) < r * 0.85 && Math.abs(dy) < r * 0.85
          : label === 2 ? dy < r * 0.8 && dy > -r && Math.abs(dx) < (dy + r) * 0.6
            : Math.abs(dx) < r * 0.3 || Math.abs(dy) < r * 0.3 ? Math.abs(dx) < r && Math.abs(dy) < r : false;
      const shade = y < SIZE / 2 ? 1 : 0.8;
      const c = inside ? fg : bg.map((v) => v * shade);
      px.set(c.map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * SIZE + x) * 3);
    }
  }
  return px;
}

/** RGB bytes -> normalised CHW floats, optionally flipped horizontally (the "augmentation"). */
function toChw(px, flip) {
  const n = SIZE * SIZE, outArr = new Float32Array(3 * n);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) {
    const sx = flip ? SIZE - 1 - x : x;
    for (let c = 0; c < 3; c++) outArr[c * n + y * SIZE + x] = (px[(y * SIZE + sx) * 3 + c] / 255 - MEAN[c]) / STD[c];
  }
  return outArr;
}

const batchOf = (imgs, flips) => {
  const n = SIZE * SIZE * 3, data = new Float32Array(imgs.length * n);
  imgs.forEach((px, i) => data.set(toChw(px, flips[i]), i * n));
  return tf.tensor4d(data, [imgs.length, 3, SIZE, SIZE]);
};

const vit = { imgSize: SIZE, patchSize: 4, inChans: 3, embedDim: 48, depth: 2, numHeads: 3, mlpRatio: 2, posEmbed: "learned" };
const mcfg = core.defaultMethodConfig({
  method: "mocov3", vit, tokenDrop: 0.5, dilemmaProb: 0.25, dilemmaWeight: 1, headHidden: 64, headOut: 32, seed: 0,
  optim: { lr: 2e-3, weightDecay: 0.05, warmupSteps: 2, totalSteps: STEPS },
});
const method = core.createMethod(mcfg);

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
writeJson(path.join(out, "config.json"), {
  version: 1, method: "mocov3",
  model: { preset: "e2e-tiny", ...vit },
  dilemma: { tokenDrop: mcfg.tokenDrop, dilemmaProb: mcfg.dilemmaProb, dilemmaWeight: mcfg.dilemmaWeight },
  data: { spec: "synthetic-shapes", numClasses: CLASSES.length, classNames: CLASSES },
  optim: { lr: mcfg.optim.lr, weightDecay: mcfg.optim.weightDecay, warmupSteps: mcfg.optim.warmupSteps, batch: BATCH, steps: STEPS },
  seed: 0, engine: "tfjs-cpu", createdAt: new Date().toISOString(), ckptEvery: CKPT_EVERY, evalEvery: CKPT_EVERY,
});
const status = (state, step, message) => writeJson(path.join(out, "status.json"),
  { state, step, totalSteps: STEPS, updatedAt: new Date().toISOString(), ...(message ? { message } : {}) });
status("running", 0);

// Validation images (also the viewer's samples).
const val = Array.from({ length: 16 }, (_, i) => ({ label: i % CLASSES.length, px: shapeImage(i % CLASSES.length) }));
val.forEach((v, i) => writeAtomic(path.join(out, "samples", `${String(i).padStart(3, "0")}.png`), encodePng(v.px, SIZE, SIZE)));
writeJson(path.join(out, "samples", "index.json"), val.map((v, i) => ({ file: `${String(i).padStart(3, "0")}.png`, label: v.label, className: CLASSES[v.label] })));

const metrics = path.join(out, "metrics.jsonl");
const log = (line) => fs.appendFileSync(metrics, JSON.stringify(line) + "\n");

function evaluate(step) {
  const images = batchOf(val.map((v) => v.px), val.map(() => false));
  const sample = core.sampleDilemma({ batch: val.length, numPatches: 64, tokenDrop: mcfg.tokenDrop, dilemmaProb: 0.5, rng: { seed: 99, counter: 0 } });
  const probs = method.detect(images, sample);
  const logits = Array.from(probs.dataSync(), (p) => Math.log(p / (1 - p)));
  probs.dispose();
  const m = core.detectionMetrics(logits, sample.labels);
  // kNN (k = 1, cosine) of the even images against the odd ones.
  const f = method.features(images);
  const feats = f.arraySync();
  f.dispose();
  images.dispose();
  const norm = (v) => { const l = Math.hypot(...v) || 1; return v.map((x) => x / l); };
  const nf = feats.map(norm);
  let right = 0, total = 0;
  for (let q = 0; q < nf.length; q += 2) {
    let best = -2, bestLabel = -1;
    for (let b = 1; b < nf.length; b += 2) {
      const sim = nf[q].reduce((a, x, k) => a + x * nf[b][k], 0);
      if (sim > best) { best = sim; bestLabel = val[b].label; }
    }
    right += bestLabel === val[q].label ? 1 : 0;
    total++;
  }
  log({ kind: "eval", step, time: Date.now() / 1000, knnAcc: right / total, detAcc: m.accuracy, detAuroc: m.auroc });
}

async function checkpoint(step) {
  const dir = `step-${String(step).padStart(6, "0")}`;
  const { modelJson, data } = await core.encodeWeights(method.getWeights());
  writeAtomic(path.join(out, "checkpoints", dir, "weights.bin"), Buffer.from(data));
  writeJson(path.join(out, "checkpoints", dir, "model.json"), { ...modelJson, step });
  writeJson(path.join(out, "checkpoints", dir, "state.json"), { step, epoch: 0, rng: { seed: 0, counter: step }, dataCursor: { step }, extra: {} });
  writeJson(path.join(out, "checkpoints", "latest.json"), { step, dir });
}

const rng = { seed: 0, counter: 0 };
const t0 = Date.now();
for (let step = 1; step <= STEPS; step++) {
  const imgs = Array.from({ length: BATCH }, () => shapeImage(Math.floor(rand() * CLASSES.length)));
  const t = Date.now();
  const views = [batchOf(imgs, imgs.map(() => rand() < 0.5)), batchOf(imgs, imgs.map(() => rand() < 0.5))];
  const r = method.trainStep(views, step - 1, rng);
  views.forEach((v) => v.dispose());
  log({ kind: "train", step, epoch: 0, time: Date.now() / 1000, lr: r.lr, loss: r.loss, sslLoss: r.sslLoss, dilemmaLoss: r.dilemmaLoss,
    detAcc: r.detection?.accuracy, imgPerSec: BATCH / ((Date.now() - t) / 1000) });
  status("running", step);
  if (step % CKPT_EVERY === 0 || step === STEPS) {
    evaluate(step);
    await checkpoint(step);
  }
}
status("done", STEPS);
console.log(`make-run: ${STEPS} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${out}`);
