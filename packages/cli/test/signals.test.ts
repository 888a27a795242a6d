// Child-process tests of the built bin: Ctrl-C checkpoints and exits cleanly; SIGKILL loses at
// most the steps since the last checkpoint.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveCheckpoint } from "../src/checkpoint.js";
import { train } from "../src/train.js";
import { BIN, readJsonl, tinyArgs, tmpDir, waitFor } from "./helpers.js";

const trainSteps = (dir: string) => readJsonl(path.join(dir, "metrics.jsonl")).filter((m) => m.kind === "train").map((m) => m.step as number);
const metricsLines = (dir: string) => (fs.existsSync(path.join(dir, "metrics.jsonl")) ? trainSteps(dir).length : 0);

function start(out: string, extra: Record<string, string | number>) {
  const child = spawn(process.execPath, [BIN, "train", ...tinyArgs({ out, steps: 400, ...extra })], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, exit, stderr: () => stderr };
}

describe.skipIf(!fs.existsSync(BIN))("signals (built bin)", () => {
  it("SIGINT saves a checkpoint at the current step, marks the run stopped and exits 130", async () => {
    const out = path.join(tmpDir("sigint"), "run");
    const p = start(out, { "ckpt-every": 1000 });
    await waitFor(() => metricsLines(out) >= 2, 60_000, "two training steps");
    p.child.kill("SIGINT");
    const { code } = await p.exit;
    expect(code, p.stderr()).toBe(130);
    expect(p.stderr()).toMatch(/Continue with: npx dilemma-cli train --resume/);
    const status = JSON.parse(fs.readFileSync(path.join(out, "status.json"), "utf8"));
    expect(status.state).toBe("stopped");
    const ck = resolveCheckpoint(out);
    expect(ck.step).toBe(status.step);
    expect(trainSteps(out)).toEqual(Array.from({ length: status.step }, (_, i) => i + 1));
  });

  it("after SIGKILL, --resume continues from the last complete checkpoint", async () => {
    const out = path.join(tmpDir("sigkill"), "run");
    const p = start(out, { "ckpt-every": 2 });
    await waitFor(() => metricsLines(out) >= 5, 60_000, "five training steps");
    p.child.kill("SIGKILL");
    await p.exit;
    const ck = resolveCheckpoint(out);
    expect(ck.step).toBeGreaterThanOrEqual(4);
    expect(ck.step % 2).toBe(0);
    // A fresh, short continuation: stop two steps later and check the metrics read as one run.
    const r = await train({ resume: out, quiet: true, engine: "cpu", workers: 0, stopAfter: ck.step + 2 });
    expect(r.losses.map((l) => l.step)).toEqual([ck.step + 1, ck.step + 2]);
    expect(trainSteps(out)).toEqual(Array.from({ length: ck.step + 2 }, (_, i) => i + 1));
  });
});
