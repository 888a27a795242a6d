/**
 * CIFAR-10 / CIFAR-100 binary-version reader. Records are label byte(s) + 3072 bytes of planar
 * 32x32 RGB. Train files become train + a held-out val fraction (`val`, default 0.1, fixed hash of
 * the record index); the test file is the test split.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
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

/** Checks a batch file's size is a whole number of records. */
function checkBatch(file: string, recordSize: number, standardRecords: number): number {
  const size = statSync(file).size;
  if (size === 0 || size % recordSize !== 0) {
    throw new Error(
      `${file} has ${size} bytes, expected ${standardRecords * recordSize} (${standardRecords} records of ${recordSize} bytes; ` +
        `any whole number of records is accepted): the file is truncated or not the CIFAR binary version — download and extract it again`,
    );
  }
  return size;
}

/** Reads a file into shared memory, so worker threads get the bytes without a copy. */
function readShared(file: string, size: number): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(size));
  const fd = openSync(file, "r");
  try {
    for (let off = 0; off < size; ) {
      const n = readSync(fd, out, off, size - off, off);
      if (n <= 0) throw new Error(`${file} ended after ${off} of ${size} bytes while reading: is it being written?`);
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** The file bytes a dataset hands its worker threads. */
interface Prepared {
  specDir: string;
  train: Uint8Array[];
  test: Uint8Array;
  classNames: string[];
}

/** Checks the folder and files, then reads them (into shared memory) with the class names. */
function readCifar(kind: "cifar10" | "cifar100", specDir: string): Prepared {
  const L = LAYOUTS[kind];
  let dir = specDir;
  const fix = `download the binary version (${L.url}) and extract it: tar xzf ${L.url.split("/").pop()} (gives ${L.sub}/), then use ${kind}:<that folder>`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${kind} directory ${dir} does not exist: ${fix}`);
  // Accept the parent of the extracted folder too.
  if (!existsSync(join(dir, L.testFile)) && existsSync(join(dir, L.sub, L.testFile))) dir = join(dir, L.sub);
  const missing = [...L.trainFiles, L.testFile].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new Error(`${kind} directory ${dir} lacks ${missing.join(", ")}: ${fix}`);

  const recordSize = L.labelBytes + PIXELS;
  const standard = (f: string): number => L.recordsPerFile[f.replace(/(_\d+)?\.bin$/, "")] ?? 10000;
  // Check every size before reading anything, so a bad file fails at once.
  const all = [...L.trainFiles, L.testFile];
  const sizes = all.map((f) => checkBatch(join(dir, f), recordSize, standard(f)));
  const bufs = all.map((f, i) => readShared(join(dir, f), sizes[i]));

  const namesPath = join(dir, L.namesFile);
  let classNames = existsSync(namesPath)
    ? readFileSync(namesPath, "utf8").split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "")
    : [];
  if (classNames.length !== L.numClasses) {
    classNames = kind === "cifar10" ? CIFAR10_NAMES : Array.from({ length: L.numClasses }, (_, i) => `class_${i}`);
  }
  return { specDir, train: bufs.slice(0, -1), test: bufs[bufs.length - 1], classNames };
}

/** Options: val (held-out fraction of the training files, 0.1). */
export function openCifar(
  kind: "cifar10" | "cifar100",
  spec: string,
  dir: string,
  options: Record<string, string>,
  imageSize: number,
  prepared?: unknown,
): Dataset {
  checkOptions(kind, options, ["val"]);
  const val = numOption(options, "val", 0.1, 0, 0.9);
  const L = LAYOUTS[kind];
  const given = prepared as Prepared | undefined;
  const files = given?.specDir === dir && given.train.length === L.trainFiles.length ? given : readCifar(kind, dir);
  const recordSize = L.labelBytes + PIXELS;

  // Each split is a list of (buffer, byte offset) pairs.
  const items: Record<Split, { buf: Uint8Array; off: number }[]> = { train: [], val: [], test: [] };
  let k = 0;
  for (const buf of files.train) {
    for (let off = 0; off < buf.length; off += recordSize, k++) items[heldOutSplit(k, val, 0)].push({ buf, off });
  }
  for (let off = 0; off < files.test.length; off += recordSize) items.test.push({ buf: files.test, off });
  const classNames = files.classNames;
  const labelOffset = L.labelBytes - 1; // cifar-100: coarse byte, then fine byte
  const labelAt = (split: Split, index: number): number => {
    checkSplit(split);
    checkIndex(split, index, items[split].length);
    const { buf, off } = items[split][index];
    const label = buf[off + labelOffset];
    if (label >= L.numClasses) throw new Error(`${kind} record ${index} of split ${split} has label ${label} >= ${L.numClasses}: the file is corrupt`);
    return label;
  };

  return {
    openOptions: { imageSize, prepared: files },
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
      const label = labelAt(split, index);
      const { buf, off } = items[split][index];
      const p = off + L.labelBytes;
      const hwc = new Uint8Array(PIXELS);
      for (let i = 0; i < 1024; i++) {
        hwc[i * 3] = buf[p + i];
        hwc[i * 3 + 1] = buf[p + 1024 + i];
        hwc[i * 3 + 2] = buf[p + 2048 + i];
      }
      return { pixels: resizeCoverRgb(hwc, 32, 32, 3, imageSize), width: imageSize, height: imageSize, label };
    },
    label: labelAt,
  };
}
