// `dilemma-cli detect`: per-patch misplacement probabilities of a run's detection head on
// images under a seeded (or explicit swap) corruption, as a heatmap PNG and JSON.
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs-core";
import type { DilemmaSample } from "@dilemma/core";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import { sampleDilemma } from "@dilemma/core";
import { NORMALIZE } from "./data/index.js";
import { listImages, loadImage, samplesToTensor } from "./images.js";
import { openRun } from "./run.js";

/** Options of {@link detect}. */
export interface DetectOptions {
  target: string;
  /** An image file or a directory of images. */
  input: string;
  /** Output directory (default `<run>/detect`). */
  out?: string;
  tokenDrop?: number;
  dilemmaProb?: number;
  seed?: number;
  /** Dense view where patches i and j exchange positional embeddings (overrides sampling). */
  swap?: [number, number];
  /** Output PNG scale factor (default: 256px wide). */
  scale?: number;
}

/** One image's result (also written as JSON). */
export interface DetectResult {
  image: string; png: string; json: string;
  grid: number; patchSize: number;
  /** Per-patch probability (row-major grid; null for dropped patches). */
  probs: (number | null)[];
  /** 1 where the patch was given a wrong position, 0 if kept correctly, null if dropped. */
  corrupted: (number | null)[];
  accuracy: number;
}

/** The corruption of one image: a DILEMMA draw, or a dense swap of two patches. */
function corruption(L: number, o: DetectOptions, rngCounter: number, tokenDrop: number, dilemmaProb: number): DilemmaSample {
  if (o.swap) {
    const [i, j] = o.swap;
    for (const v of [i, j]) if (!Number.isInteger(v) || v < 0 || v >= L) throw new Error(`--swap ${i},${j}: patch index ${v} out of [0, ${L})`);
    if (i === j) throw new Error(`--swap ${i},${j}: give two different patches`);
    const realPos = Int32Array.from({ length: L }, (_, k) => k);
    const inputPos = realPos.slice();
    inputPos[i] = j;
    inputPos[j] = i;
    const labels = Float32Array.from(realPos, (k) => (k === i || k === j ? 1 : 0));
    return { batch: 1, numPatches: L, numKept: L, realPos, inputPos, labels };
  }
  return sampleDilemma({ batch: 1, numPatches: L, tokenDrop, dilemmaProb, rng: { seed: o.seed ?? 0, counter: rngCounter } });
}

/** Heatmap colour (blue -> red) of a probability. */
function heat(p: number): [number, number, number] {
  return [Math.round(255 * p), Math.round(80 * (1 - Math.abs(p - 0.5) * 2)), Math.round(255 * (1 - p))];
}

/** What {@link detect} returns: a result per readable image, and the images it skipped. */
export interface DetectRun {
  results: DetectResult[];
  /** Unreadable images of a folder (a single unreadable image is an error instead). */
  skipped: { image: string; reason: string }[];
}

/**
 * Output names per input: `<stem>.detect.*`, or `<name with extension>.detect.*` for inputs
 * whose stems collide (x.png and x.jpg), so no result overwrites another.
 */
function outputStems(files: string[]): string[] {
  const stem = (f: string) => path.basename(f).replace(/\.[^.]+$/, "");
  const counts = new Map<string, number>();
  for (const f of files) counts.set(stem(f), (counts.get(stem(f)) ?? 0) + 1);
  return files.map((f) => (counts.get(stem(f))! > 1 ? path.basename(f) : stem(f)));
}

/** Runs the detection head on every image; writes `<name>.detect.png` and `.json` per image. */
export async function detect(o: DetectOptions): Promise<DetectRun> {
  const files = listImages(o.input);
  const single = !fs.statSync(o.input).isDirectory();
  const stems = outputStems(files);
  const run = openRun(o.target);
  try {
    if (run.config.dilemma.dilemmaProb <= 0) throw new Error(`${run.runDir} was trained without DILEMMA (dilemmaProb 0): it has no detection head`);
    const { imgSize, patchSize } = run.config.model;
    const grid = imgSize / patchSize, L = grid * grid;
    const outDir = path.resolve(o.out ?? path.join(run.runDir, "detect"));
    fs.mkdirSync(outDir, { recursive: true });
    const tokenDrop = o.tokenDrop ?? run.config.dilemma.tokenDrop;
    const dilemmaProb = o.dilemmaProb ?? run.config.dilemma.dilemmaProb;
    const results: DetectResult[] = [];
    const skipped: DetectRun["skipped"] = [];
    const px = Math.max(1, Math.round(o.scale ?? 256 / imgSize));
    for (const [n, file] of files.entries()) {
      let img;
      try {
        img = await loadImage(file, imgSize);
      } catch (e) {
        // In a folder one bad file must not cost the others their results.
        if (single) throw e;
        skipped.push({ image: path.resolve(file), reason: (e as Error).message });
        continue;
      }
      const sample = corruption(L, o, n, tokenDrop, dilemmaProb);
      const x = samplesToTensor([img], imgSize, NORMALIZE);
      const p = run.method.detect(x, sample);
      const probsK = p.dataSync();
      tf.dispose([x, p]);
      const probs: (number | null)[] = new Array(L).fill(null);
      const corrupted: (number | null)[] = new Array(L).fill(null);
      let correct = 0;
      for (let k = 0; k < sample.numKept; k++) {
        probs[sample.realPos[k]] = probsK[k];
        corrupted[sample.realPos[k]] = sample.labels[k];
        if ((probsK[k] >= 0.5 ? 1 : 0) === sample.labels[k]) correct++;
      }
      // Overlay: dropped patches greyed, kept ones tinted by probability, corrupted ones outlined.
      const W = imgSize * px, cell = patchSize * px, lw = Math.max(2, Math.round(cell / 16));
      const overlay = Buffer.alloc(W * W * 4);
      for (let g = 0; g < L; g++) {
        const gy = Math.floor(g / grid), gx = g % grid;
        const pr = probs[g];
        const [r, gg, b] = pr === null ? [128, 128, 128] : heat(pr);
        const alpha = pr === null ? 200 : 110;
        for (let y = 0; y < cell; y++) for (let xx = 0; xx < cell; xx++) {
          const edge = corrupted[g] === 1 && (y < lw || xx < lw || y >= cell - lw || xx >= cell - lw);
          const o4 = ((gy * cell + y) * W + gx * cell + xx) * 4;
          overlay[o4] = edge ? 255 : r; overlay[o4 + 1] = edge ? 255 : gg; overlay[o4 + 2] = edge ? 0 : b; overlay[o4 + 3] = edge ? 255 : alpha;
        }
      }
      const base = await sharp(Buffer.from(img.pixels), { raw: { width: imgSize, height: imgSize, channels: 3 } })
        .resize(W, W, { kernel: "nearest" }).png().toBuffer();
      const png = await sharp(base).composite([{ input: overlay, raw: { width: W, height: W, channels: 4 } }]).png().toBuffer();
      const stem = stems[n];
      const pngFile = path.join(outDir, `${stem}.detect.png`), jsonFile = path.join(outDir, `${stem}.detect.json`);
      const result: DetectResult = { image: path.resolve(file), png: pngFile, json: jsonFile, grid, patchSize, probs, corrupted, accuracy: correct / sample.numKept };
      writeFileAtomic(pngFile, png);
      writeJsonAtomic(jsonFile, {
        ...result, run: run.runDir, step: run.step,
        corruption: o.swap ? { swap: o.swap } : { tokenDrop, dilemmaProb, seed: o.seed ?? 0, counter: n },
        realPos: Array.from(sample.realPos), inputPos: Array.from(sample.inputPos),
      });
      results.push(result);
    }
    if (results.length === 0) throw new Error(`no readable image in ${o.input}: ${skipped.map((x) => x.reason).join("; ")}`);
    return { results, skipped };
  } finally {
    run.method.dispose();
  }
}
