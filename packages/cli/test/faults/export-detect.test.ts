// export must never write into its source run; detect must not lose results to name collisions
// and must skip (and report) unreadable images in a folder.
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { resolveCheckpoint } from "../../src/checkpoint.js";
import { detect } from "../../src/detect.js";
import { exportRun } from "../../src/export.js";
import { train } from "../../src/train.js";
import { TINY, tmpDir } from "../helpers.js";

const sha = (f: string) => fs.readFileSync(f).toString("base64");
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = sha(path.join(e.parentPath, e.name));
  }
  return out;
}

describe("export into its own run", () => {
  let runDir: string;
  beforeAll(async () => {
    runDir = (await train({ ...TINY, out: path.join(tmpDir("export-self"), "run"), steps: 20, ckptEvery: 2, stopAfter: 4 })).runDir;
  });

  it.each([
    ["the run directory", (r: string) => r],
    ["a checkpoint directory", (r: string) => resolveCheckpoint(r).ckptDir],
    ["the checkpoints folder", (r: string) => path.join(r, "checkpoints")],
    ["the run through a symlink", (r: string) => { const l = path.join(path.dirname(r), "alias"); fs.rmSync(l, { force: true }); fs.symlinkSync(r, l); return l; }],
  ])("refuses %s as the destination (exit 2, run untouched)", async (_what, dest) => {
    const before = snapshot(runDir);
    let err = "";
    const code = await main(["export", runDir, dest(runDir), "--engine", "cpu"], { out: () => undefined, err: (s) => { err += s; } });
    expect(code, err).toBe(2);
    expect(err).toMatch(/export: .*(is the run|inside the run|holds a run).*pick a new or empty directory/);
    expect(snapshot(runDir)).toEqual(before);
    // The run still resumes (config.json and the checkpoint weights are the run's own).
    const next = resolveCheckpoint(runDir).step + 1;
    await expect(train({ resume: runDir, quiet: true, engine: "cpu", workers: 0, stopAfter: next })).resolves.toMatchObject({ step: next });
  });

  it("refuses a non-empty directory that is not an earlier export, and re-exports over an export", async () => {
    const root = tmpDir("export-dest");
    fs.writeFileSync(path.join(root, "config.json"), '{"mine": true}');
    await expect(exportRun(runDir, root)).rejects.toThrow(/not empty and not an earlier export/);
    expect(fs.readFileSync(path.join(root, "config.json"), "utf8")).toBe('{"mine": true}');
    const dest = path.join(root, "exp");
    await exportRun(runDir, dest);
    await expect(exportRun(runDir, dest)).resolves.toMatchObject({ format: "dilemma-export" });
  });
});

describe("detect on a folder", () => {
  let runDir: string, imgs: string;
  beforeAll(async () => {
    const root = tmpDir("detect-faults");
    runDir = (await train({ ...TINY, out: path.join(root, "run"), steps: 2 })).runDir;
    imgs = path.join(root, "imgs");
    fs.mkdirSync(imgs);
    const img = (r: number) => sharp({ create: { width: 20, height: 20, channels: 3, background: { r, g: 10, b: 10 } } });
    await img(10).png().toFile(path.join(imgs, "x.png"));
    await img(250).jpeg().toFile(path.join(imgs, "x.jpg"));
    fs.writeFileSync(path.join(imgs, "a-broken.png"), "not a png");
    await img(120).png().toFile(path.join(imgs, "z.png"));
  });

  it("keeps one result per input image when names differ only by extension", async () => {
    const out = path.join(tmpDir("detect-out"), "o");
    const { results } = await detect({ target: runDir, input: imgs, out, seed: 1 });
    const pngs = results.map((r) => r.png);
    expect(new Set(pngs).size).toBe(results.length);
    expect(results.map((r) => path.basename(r.image)).sort()).toEqual(["x.jpg", "x.png", "z.png"]);
    for (const r of results) {
      expect(fs.existsSync(r.png)).toBe(true);
      expect(JSON.parse(fs.readFileSync(r.json, "utf8")).image).toBe(r.image);
    }
  });

  it("skips an unreadable image, reports it, and still does the rest (cli: a warning, exit 0)", async () => {
    const out = path.join(tmpDir("detect-skip"), "o");
    const { results, skipped } = await detect({ target: runDir, input: imgs, out, seed: 1 });
    expect(results).toHaveLength(3);
    expect(skipped).toHaveLength(1);
    expect(skipped[0].image).toBe(path.join(imgs, "a-broken.png"));
    let err = "";
    const code = await main(["detect", runDir, imgs, "--out", out, "--engine", "cpu"], { out: () => undefined, err: (s) => { err += s + "\n"; } });
    expect(code).toBe(0);
    expect(err).toMatch(/skipped 1 unreadable image.*a-broken\.png/s);
  });

  it("a single unreadable image is an error", async () => {
    await expect(detect({ target: runDir, input: path.join(imgs, "a-broken.png") })).rejects.toThrow(/cannot read image .*a-broken\.png/);
  });
});
