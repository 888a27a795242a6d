// Hostile or mistaken input: --config keys that name Object.prototype members, bad model
// settings (exit code 2 as the README promises), and a symlink loop inside an image folder.
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { openDataset } from "../../src/data/index.js";
import { TINY, tinyArgs, tmpDir } from "../helpers.js";

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const code = await main(argv, { out: (s) => { out += s + "\n"; }, err: (s) => { err += s + "\n"; } });
  return { code, out, err };
}

describe("--config with prototype keys", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])("rejects %s as an unknown key (exit 2)", async (key) => {
    const dir = tmpDir("cfg-proto");
    const file = path.join(dir, "c.json");
    // Written as text: an object literal's __proto__ would set the prototype, not a key.
    fs.writeFileSync(file, `{"${key}": {"batch": 4}, "batch": 8}`);
    const r = await cli(["train", "--config", file, "--out", path.join(dir, "run")]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`unknown key "${key}"`);
    expect(fs.existsSync(path.join(dir, "run"))).toBe(false);
  });
});

describe("bad model settings exit 2", () => {
  it("--model nosuch names the presets", async () => {
    const dir = tmpDir("bad-model");
    const r = await cli(["train", ...tinyArgs({ out: path.join(dir, "run"), model: "nosuch" })]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/--model nosuch: unknown preset; allowed: .*micro32/);
    expect(fs.existsSync(path.join(dir, "run"))).toBe(false);
  });

  it("an image size that is not a multiple of the patch", async () => {
    const dir = tmpDir("bad-img");
    const r = await cli(["train", ...tinyArgs({ out: path.join(dir, "run"), "img-size": 18 })]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/--img-size 18 is not a multiple of --patch 4/);
  });

  it("heads that do not divide the width", async () => {
    const r = await cli(["train", ...tinyArgs({ out: path.join(tmpDir("bad-heads"), "run"), heads: 3 })]);
    expect(r.code, r.err).toBe(2);
  });
});

describe("image folder with a symlink loop", () => {
  it("skips the loop, reports it, and opens the rest", async () => {
    const dir = tmpDir("loop");
    for (const cls of ["a", "b"]) {
      fs.mkdirSync(path.join(dir, cls));
      for (let i = 0; i < 4; i++) {
        await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 40 * i, g: cls === "a" ? 200 : 0, b: 9 } } })
          .png().toFile(path.join(dir, cls, `${i}.png`));
      }
    }
    fs.symlinkSync(".", path.join(dir, "a", "self"));        // a/self/self/... forever
    fs.symlinkSync(path.join(dir, "b", "y"), path.join(dir, "b", "x")); // x -> y -> x: ELOOP
    fs.symlinkSync(path.join(dir, "b", "x"), path.join(dir, "b", "y"));
    const ds = await openDataset(`folder:${dir}?val=0.25`, { imageSize: TINY.imgSize!, seed: 0 });
    try {
      expect(ds.numClasses).toBe(2);
      expect(ds.size("train") + ds.size("val")).toBe(8);
      expect(ds.skipped.count).toBeGreaterThanOrEqual(2);
      expect(ds.skipped.examples.join("\n")).toMatch(/self.*loop/);
      expect(ds.skipped.examples.join("\n")).toMatch(/b[/\\][xy].*loop/);
    } finally {
      await ds.close?.();
    }
  });
});
