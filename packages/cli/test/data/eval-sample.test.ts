// Evaluation scores a seeded, class-balanced sample of a whole split. Each source is checked
// under class-ordered storage (its own where it has it — mnist, folder — and, for every source,
// behind a view that re-stores each split sorted by class): taking "the first n" there holds a
// few classes only, so these tests fail for any evaluation that does.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { evalIndices, openDataset, readEvalSample, type Dataset, type Split } from "../../src/data/index.js";
import { writeSamples } from "../../src/run.js";

const root = mkdtempSync(join(tmpdir(), "dilemma-evalsample-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** CIFAR-10 binaries whose records are stored sorted by class (10 per class per file). */
function makeSortedCifar10(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const batch = (records: number) => {
    const rs = 1 + 3072;
    const b = Buffer.alloc(records * rs);
    for (let i = 0; i < records; i++) {
      const label = Math.floor((i * 10) / records);
      b[i * rs] = label;
      b.fill(label * 20, i * rs + 1, (i + 1) * rs);
    }
    return b;
  };
  for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), batch(100));
  writeFileSync(join(dir, "test_batch.bin"), batch(100));
  writeFileSync(join(dir, "batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n");
}

/** An image folder, classes in sub-folders (listed class by class, as the source stores them). */
async function makeFolder(dir: string): Promise<void> {
  const colours: [string, [number, number, number]][] = [["ants", [200, 0, 0]], ["bees", [0, 200, 0]], ["cats", [0, 0, 200]], ["dogs", [200, 200, 0]]];
  for (const [name, [r, g, b]] of colours) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < 8; i++) {
      await sharp({ create: { width: 20, height: 20, channels: 3, background: { r, g: g + i, b } } }).png().toFile(join(dir, name, `${i}.png`));
    }
  }
}

/** The same data with every split re-stored sorted by class (stable): class-ordered storage. */
function classOrdered(ds: Dataset, labels: Record<Split, number[]>): Dataset {
  const order = {} as Record<Split, number[]>;
  for (const split of ["train", "val", "test"] as Split[]) {
    order[split] = labels[split].map((l, i) => [l, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
  }
  return {
    ...ds,
    get: (split, i) => ds.get(split, order[split][i]),
    label: ds.label ? (split, i) => ds.label!(split, order[split][i]) : undefined,
  };
}

async function labelsOf(ds: Dataset): Promise<Record<Split, number[]>> {
  const out = {} as Record<Split, number[]>;
  for (const split of ["train", "val", "test"] as Split[]) {
    out[split] = [];
    for (let i = 0; i < ds.size(split); i++) out[split].push((await ds.get(split, i)).label);
  }
  return out;
}

const counts = (labels: number[]) => labels.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<number, number>());

const SOURCES: { name: string; spec: () => Promise<string>; split: Split; n: number }[] = [
  { name: "shapes", spec: async () => "shapes:n=80,val=40,test=40,classes=4", split: "val", n: 8 },
  { name: "mnist", spec: async () => "mnist", split: "val", n: 40 },
  {
    name: "cifar10", split: "test", n: 20,
    spec: async () => {
      const dir = join(root, "cifar");
      makeSortedCifar10(dir);
      return `cifar10:${dir}`;
    },
  },
  {
    name: "folder", split: "train", n: 8,
    spec: async () => {
      const dir = join(root, "folder");
      await makeFolder(dir);
      return `folder:${dir}?val=0.25`;
    },
  },
];

describe.each(SOURCES)("eval sample: $name", ({ name, spec, split, n }) => {
  it("labels without decoding agree with the decoded samples", async () => {
    const ds = await openDataset(await spec(), { imageSize: 8 });
    try {
      expect(ds.label, `${name} implements label()`).toBeTypeOf("function");
      const size = ds.size(split);
      for (let i = 0; i < size; i += Math.max(1, Math.floor(size / 50))) expect(ds.label!(split, i)).toBe((await ds.get(split, i)).label);
    } finally {
      await ds.close?.();
    }
  });

  it("is class-balanced under class-ordered storage, where the first n are not", async () => {
    const opened = await openDataset(await spec(), { imageSize: 8 });
    try {
      const ordered = classOrdered(opened, await labelsOf(opened));
      const first = await Promise.all(Array.from({ length: n }, async (_, i) => (await ordered.get(split, i)).label));
      expect(counts(first).size, "the first n of a class-ordered split miss classes").toBeLessThan(opened.numClasses);
      for (const ds of [ordered, { ...ordered, label: undefined }]) { // with and without label()
        const got = (await readEvalSample(ds, split, n, 0)).map((s) => s.label);
        expect(got).toHaveLength(n);
        const c = counts(got);
        const present = new Set((await labelsOf(opened))[split]).size;
        expect(c.size, `every class of the split (${present})`).toBe(Math.min(present, n));
        expect(Math.max(...c.values()) - Math.min(...c.values()), `balanced: ${JSON.stringify([...c])}`).toBeLessThanOrEqual(1);
      }
    } finally {
      await opened.close?.();
    }
  });

  it("is fixed by the eval seed alone (the same for every run seed), and another eval seed draws another sample", async () => {
    const a = await openDataset(await spec(), { imageSize: 8, seed: 1 });
    const b = await openDataset(await spec(), { imageSize: 8, seed: 2 });
    try {
      const ia = await evalIndices(a, split, n, 0);
      expect(await evalIndices(b, split, n, 0)).toEqual(ia);
      expect(await evalIndices(a, split, n, 0)).toEqual(ia);
      expect(new Set(ia).size).toBe(n); // no repeats
      if (a.size(split) > n + 4) expect(await evalIndices(a, split, n, 7)).not.toEqual(ia);
      // n at least the split: the whole split, in order
      expect(await evalIndices(a, split, a.size(split), 0)).toEqual(Array.from({ length: a.size(split) }, (_, i) => i));
    } finally {
      await a.close?.();
      await b.close?.();
    }
  });
});

describe("eval sample", () => {
  it("mnist's own storage is class-ordered; the eval sample and the viewer's gallery hold every digit", async () => {
    const ds = await openDataset("mnist", { imageSize: 8 });
    const first = Array.from({ length: 250 }, (_, i) => ds.label!("val", i));
    expect(counts(first).size).toBeLessThanOrEqual(3); // what evaluation used to score
    const sample = (await readEvalSample(ds, "val", 250)).map((s) => s.label);
    expect([...counts(sample).values()]).toEqual(Array(10).fill(25));
    const runDir = join(root, "gallery");
    mkdirSync(runDir);
    expect(await writeSamples(runDir, ds, 16, 0)).toBe(16);
    const index = JSON.parse((await import("node:fs")).readFileSync(join(runDir, "samples", "index.json"), "utf8")) as { label: number }[];
    expect(counts(index.map((e) => e.label)).size).toBe(10);
  });

  it("unlabelled data: a seeded uniform sample without repeats", async () => {
    const dir = join(root, "flat");
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 12; i++) await sharp({ create: { width: 10, height: 10, channels: 3, background: { r: i * 20, g: 0, b: 0 } } }).png().toFile(join(dir, `${i}.png`));
    const ds = await openDataset(`folder:${dir}?val=0`, { imageSize: 8 });
    const idx = await evalIndices(ds, "train", 5, 0);
    expect(new Set(idx).size).toBe(5);
    expect(idx.every((i) => i >= 0 && i < ds.size("train"))).toBe(true);
    expect(idx).not.toEqual([0, 1, 2, 3, 4]);
    await expect(evalIndices(ds, "train", -1)).rejects.toThrow(/eval sample size -1 is invalid/);
  });
});
