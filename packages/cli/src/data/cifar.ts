/**
 * CIFAR-10 / CIFAR-100 binary-version reader. Records are label byte(s) + 3072 bytes of planar
 * 32x32 RGB. Train files become train + a held-out val fraction (`val`, default 0.1, fixed hash of
 * the record index); the test file is the test split.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { resizeCoverRgb } from "./resample.js";
import { heldOutSplit } from "./split.js";
import { checkOptions, numOption } from "./spec.js";
import { checkIndex, checkSplit, type Dataset, type Sample, type Split } from "./types.js";

const CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
const PIXELS = 3072;

interface Layout {
  sub: string;
  url: string;
  labelBytes: number;
  trainFiles: string[];
  testFile: string;
  recordsPerFile: Record<string, number>;
  namesFile: string;
  numClasses: number;
}

const LAYOUTS: Record<"cifar10" | "cifar100", Layout> = {
  cifar10: {
    sub: "cifar-10-batches-bin",
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    labelBytes: 1,
    trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    testFile: "test_batch.bin",
    recordsPerFile: { test_batch: 10000, data_batch: 10000 },
    namesFile: "batches.meta.txt",
    numClasses: 10,
  },
  cifar100: {
    sub: "cifar-100-binary",
    url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    labelBytes: 2,
    trainFiles: ["train.bin"],
    testFile: "test.bin",
    recordsPerFile: { train: 50000, test: 10000 },
    namesFile: "fine_label_names.txt",
    numClasses: 100,
  },
};

/** Reads one batch file, checking its size is a whole number of records. */
function readBatch(file: string, recordSize: number, standardRecords: number): Buffer {
  const size = statSync(file).size;
  if (size === 0 || size % recordSize !== 0) {
    throw new Error(
      `${file} has ${size} bytes, expected ${standardRecords * recordSize} (${standardRecords} records of ${recordSize} bytes; ` +
        `any whole number of records is accepted): the file is truncated or not the CIFAR binary version — download and extract it again`,
    );
  }
  return readFileSync(file);
}

/** Options: val (held-out fraction of the training files, 0.1). */
export function openCifar(kind: "cifar10" | "cifar100", spec: string, dir: string, options: Record<string, string>, imageSize: number): Dataset {
  checkOptions(kind, options, ["val"]);
  const val = numOption(options, "val", 0.1, 0, 0.9);
  const L = LAYOUTS[kind];
  const fix = `download the binary version (${L.url}) and extract it: tar xzf ${L.url.split("/").pop()} (gives ${L.sub}/), then use ${kind}:<that folder>`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${kind} directory ${dir} does not exist: ${fix}`);
  // Accept the parent of the extracted folder too.
  if (!existsSync(join(dir, L.testFile)) && existsSync(join(dir, L.sub, L.testFile))) dir = join(dir, L.sub);
  const missing = [...L.trainFiles, L.testFile].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new Error(`${kind} directory ${dir} lacks ${missing.join(", ")}: ${fix}`);

  const recordSize = L.labelBytes + PIXELS;
  const standard = (f: string): number => L.recordsPerFile[f.replace(/(_\d+)?\.bin$/, "")] ?? 10000;
  const trainBufs = L.trainFiles.map((f) => readBatch(join(dir, f), recordSize, standard(f)));
  const testBuf = readBatch(join(dir, L.testFile), recordSize, standard(L.testFile));

  // Each split is a list of (buffer, byte offset) pairs.
  const items: Record<Split, { buf: Buffer; off: number }[]> = { train: [], val: [], test: [] };
  let k = 0;
  for (const buf of trainBufs) {
    for (let off = 0; off < buf.length; off += recordSize, k++) items[heldOutSplit(k, val, 0)].push({ buf, off });
  }
  for (let off = 0; off < testBuf.length; off += recordSize) items.test.push({ buf: testBuf, off });

  const namesPath = join(dir, L.namesFile);
  let classNames = existsSync(namesPath)
    ? readFileSync(namesPath, "utf8").split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "")
    : [];
  if (classNames.length !== L.numClasses) {
    classNames = kind === "cifar10" ? CIFAR10_NAMES : Array.from({ length: L.numClasses }, (_, i) => `class_${i}`);
  }
  const labelOffset = L.labelBytes - 1; // cifar-100: coarse byte, then fine byte

  return {
    spec,
    name: kind,
    numClasses: L.numClasses,
    classNames,
    imageSize,
    skipped: { count: 0, examples: [] },
    size: (split) => {
      checkSplit(split);
      return items[split].length;
    },
    get(split, index): Sample {
      checkSplit(split);
      checkIndex(split, index, items[split].length);
      const { buf, off } = items[split][index];
      const label = buf[off + labelOffset];
      if (label >= L.numClasses) throw new Error(`${kind} record ${index} of split ${split} has label ${label} >= ${L.numClasses}: the file is corrupt`);
      const p = off + L.labelBytes;
      const hwc = new Uint8Array(PIXELS);
      for (let i = 0; i < 1024; i++) {
        hwc[i * 3] = buf[p + i];
        hwc[i * 3 + 1] = buf[p + 1024 + i];
        hwc[i * 3 + 2] = buf[p + 2048 + i];
      }
      return { pixels: resizeCoverRgb(hwc, 32, 32, 3, imageSize), width: imageSize, height: imageSize, label };
    },
  };
}
