import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../src/args.js";
import { main } from "../src/cli.js";
import { benchCommand, trainCommand, viewCommand } from "../src/commands.js";
import { tinyArgs, tmpDir } from "./helpers.js";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const code = await main(argv, { out: (s) => { out += s + "\n"; }, err: (s) => { err += s + "\n"; } });
  return { code, out, err };
}

describe("argument validation", () => {
  it("names the flag and the allowed values for a bad enum", async () => {
    const r = await run(["train", "--method", "byol"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--method");
    expect(r.err).toContain("mocov3, simclr, dino");
  });

  it("rejects out-of-range and non-numeric numbers with the flag name", () => {
    expect(() => parseCommand(trainCommand, ["--dilemma-prob", "1.5"])).toThrow(/--dilemma-prob: must be <= 1/);
    expect(() => parseCommand(trainCommand, ["--token-drop", "1"])).toThrow(/--token-drop: must be < 1/);
    expect(() => parseCommand(trainCommand, ["--batch", "abc"])).toThrow(/--batch: expected a number/);
    expect(() => parseCommand(trainCommand, ["--steps", "2.5"])).toThrow(/--steps: expected an integer/);
    expect(() => parseCommand(viewCommand, ["--port", "70000"])).toThrow(/--port: must be <= 65535/);
    expect(() => parseCommand(benchCommand, ["--preset", "huge"])).toThrow(/allowed: tiny32, tiny32-dense-baseline, small32/);
  });

  it("rejects unknown flags, stray arguments and unknown commands", async () => {
    expect((await run(["train", "--lr-max", "1"])).err).toMatch(/Unknown option '--lr-max'[\s\S]*dilemma-cli train --help/);
    expect((await run(["train", "extra"])).err).toMatch(/expected no arguments/);
    const r = await run(["fit"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "fit"; commands: train, eval/);
    expect((await run(["eval"])).err).toMatch(/expected <run\|checkpoint>, got none/);
  });

  it("parses the augmentation strength flags", async () => {
    expect(parseCommand(trainCommand, ["--crop-scale", "0.35,1", "--flip", "off", "--color-jitter", "on"]))
      .toMatchObject({ cropScale: [0.35, 1], flip: false, colorJitter: true });
    expect(() => parseCommand(trainCommand, ["--crop-scale", "0.5"])).toThrow(/--crop-scale: expected two numbers min,max/);
    expect(() => parseCommand(trainCommand, ["--crop-scale", "0.5,x"])).toThrow(/--crop-scale: expected two numbers min,max/);
    expect(() => parseCommand(trainCommand, ["--crop-scale", "0.9,0.5"])).toThrow(/--crop-scale: expected 0 < min <= max <= 1/);
    expect(() => parseCommand(trainCommand, ["--flip", "maybe"])).toThrow(/--flip: invalid value "maybe"; allowed: on, off/);
    expect(() => parseCommand(trainCommand, ["--resume", "runs/x", "--flip", "off"])).toThrow(/--flip: cannot be changed when resuming/);
    expect((await run(["train", "--crop-scale", "2,3"])).code).toBe(2);
  });

  it("refuses --steps with --epochs, and training flags with --resume", () => {
    expect(() => parseCommand(trainCommand, ["--steps", "5", "--epochs", "2"])).toThrow(/--epochs: give --steps or --epochs, not both/);
    expect(() => parseCommand(trainCommand, ["--resume", "runs/x", "--batch", "4"])).toThrow(/--batch: cannot be changed when resuming/);
    // --lr may change on resume (the way out after a non-finite loss; recorded in the run).
    expect(parseCommand(trainCommand, ["--resume", "runs/x", "--lr", "0.1"])).toMatchObject({ resume: "runs/x", lr: 0.1 });
    expect(parseCommand(trainCommand, ["--resume", "runs/x", "--quiet"])).toMatchObject({ resume: "runs/x", quiet: true });
  });

  it("parses values to numbers and merges --config under the flags", () => {
    const dir = tmpDir("args");
    const file = path.join(dir, "c.json");
    fs.writeFileSync(file, JSON.stringify({ "dilemma-prob": 0.3, batch: 16, method: "dino" }));
    const o = parseCommand(trainCommand, ["--config", file, "--batch", "32"])!;
    expect(o).toMatchObject({ dilemmaProb: 0.3, batch: 32, method: "dino" });
    fs.writeFileSync(file, JSON.stringify({ learningRate: 1 }));
    expect(() => parseCommand(trainCommand, ["--config", file])).toThrow(/unknown key "learningRate"; allowed: data, method/);
    fs.writeFileSync(file, JSON.stringify({ batch: "x" }));
    expect(() => parseCommand(trainCommand, ["--config", file])).toThrow(/--batch: expected a number/);
    expect(() => parseCommand(trainCommand, ["--config", path.join(dir, "missing.json")])).toThrow(/file not found/);
  });

  it("prints per-command help", async () => {
    const r = await run(["train", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--dilemma-prob <value>.*\(default: 0\.2\)/);
    expect((await run(["--help"])).out).toMatch(/bench\s+Throughput/);
  });

  it("reports a missing run directory clearly", async () => {
    const r = await run(["eval", path.join(tmpDir("args"), "nope")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/does not exist; pass a run directory/);
  });

  it("data --info describes a spec, and names a bad spec", async () => {
    const r = await run(["data", "shapes:n=100,val=20,test=0", "--info"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/train 100, val 20/);
    expect(r.out).toMatch(/classes: 8 \(circle/);
    const bad = await run(["data", "imagenet", "--info"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown data spec "imagenet"/);
  });

  it("train ends by printing the run, its kNN / detection numbers and how to view it", async () => {
    const out = path.join(tmpDir("summary"), "run");
    const r = await run(["train", ...tinyArgs({ out, steps: 2 })]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^run: .*run \(2 steps, \d+ s, engine cpu\)$/m);
    // detection accuracy always beside its chance level (1 - p), and the balanced accuracy
    expect(r.out).toMatch(/^kNN accuracy: \d+\.\d% {3}detection acc \d+\.\d% \(chance \d+\.\d%\) {2}balanced (\d+\.\d%|-) {2}AUROC \d\.\d{3}$/m);
    expect(r.out).toContain(`view it: npx dilemma-cli view `);
  });

  it("a run's config.json passed back as --config repeats the run (train only)", async () => {
    const root = tmpDir("repeat");
    const first = path.join(root, "first"), again = path.join(root, "again");
    expect((await run(["train", ...tinyArgs({ out: first, steps: 3, knnK: 7, evalSeed: 2 })])).code).toBe(0);
    const cfgFile = path.join(first, "config.json");
    const r = await run(["train", "--config", cfgFile, "--out", again, "--engine", "cpu", "--workers", "0", "--quiet"]);
    expect(r.code, r.err).toBe(0);
    const read = (dir: string) => {
      const { name: _n, createdAt: _c, ...c } = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
      return c;
    };
    expect(read(again)).toEqual(read(first));
    const losses = (dir: string) => fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").split("\n").filter(Boolean)
      .map((l) => JSON.parse(l)).filter((m) => m.kind === "train").map((m) => m.loss);
    expect(losses(again)).toEqual(losses(first));
    const bad = await run(["eval", first, "--config", cfgFile]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/is a run's config\.json; only train repeats a run from it/);
  });

  it("detect prints each image's accuracy beside its chance level", async () => {
    const root = tmpDir("detect-chance");
    const runDir = path.join(root, "run");
    expect((await run(["train", ...tinyArgs({ out: runDir, steps: 2 })])).code).toBe(0);
    const img = path.join(root, "a.png");
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toFile(img);
    const r = await run(["detect", runDir, img, "--swap", "1,6", "--out", path.join(root, "out"), "--engine", "cpu"]);
    expect(r.code, r.err).toBe(0);
    // 2 of 16 patches misplaced: answering "in place" everywhere is 87.5% right
    expect(r.out).toMatch(/a\.detect\.png {2}\(accuracy \d+\.\d%, chance 87\.5%; /);
  });
});
