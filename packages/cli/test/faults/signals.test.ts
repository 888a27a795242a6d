// Signals and concurrent writers, against the built bin in child processes: SIGTERM saves a
// checkpoint like Ctrl-C; a second signal quits at once but leaves status.json "stopped"; a
// second `train` on a run that is being written is refused.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { resolveCheckpoint } from "../../src/checkpoint.js";
import { train } from "../../src/train.js";
import { BIN, readJsonl, TINY, tinyArgs, tmpDir, waitFor } from "../helpers.js";

const trainSteps = (dir: string) => readJsonl(path.join(dir, "metrics.jsonl")).filter((m) => m.kind === "train").map((m) => m.step as number);
const stepsDone = (dir: string) => (fs.existsSync(path.join(dir, "metrics.jsonl")) ? trainSteps(dir).length : 0);
const status = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "status.json"), "utf8"));

function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, "train", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, exit, stderr: () => stderr };
}

describe.skipIf(!fs.existsSync(BIN) || process.platform === "win32")("signals and concurrent runs (built bin)", () => {
  it("SIGTERM saves a checkpoint at the current step, marks the run stopped and exits 143", async () => {
    const out = path.join(tmpDir("sigterm"), "run");
    const p = start(tinyArgs({ out, steps: 400, "ckpt-every": 1000 }));
    await waitFor(() => stepsDone(out) >= 2, 60_000, "two training steps");
    p.child.kill("SIGTERM");
    const { code } = await p.exit;
    expect(code, p.stderr()).toBe(143);
    const st = status(out);
    expect(st.state).toBe("stopped");
    expect(st.step).toBeGreaterThanOrEqual(2);
    expect(resolveCheckpoint(out).step).toBe(st.step);
    expect(fs.existsSync(path.join(out, ".lock"))).toBe(false);
  });

  it("a second train --resume (or --out) on a run being written is refused; the first is unharmed", async () => {
    const out = path.join(tmpDir("concurrent"), "run");
    const a = start(tinyArgs({ out, steps: 400, "ckpt-every": 2 }));
    try {
      await waitFor(() => stepsDone(out) >= 3, 60_000, "three training steps");
      const b = start(["--resume", out, "--engine", "cpu", "--quiet", "--workers", "0"]);
      const rb = await b.exit;
      expect(rb.code, b.stderr()).toBe(1);
      expect(b.stderr()).toMatch(new RegExp(`in use by another dilemma-cli train \\(pid ${a.child.pid} `));
      const c = start(tinyArgs({ out }));
      expect((await c.exit).code, c.stderr()).not.toBe(0);
      expect(a.child.exitCode).toBeNull();
    } finally {
      a.child.kill("SIGINT");
    }
    expect((await a.exit).code, a.stderr()).toBe(130);
    const steps = trainSteps(out);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(status(out).state).toBe("stopped");
  });

  it("two train --out on the same new directory at once: one runs, the other is refused", async () => {
    const out = path.join(tmpDir("race"), "run");
    const ps = [start(tinyArgs({ out, steps: 4 })), start(tinyArgs({ out, steps: 4 }))];
    const codes = (await Promise.all(ps.map((p) => p.exit))).map((r) => r.code);
    expect(codes.filter((c) => c === 0), ps.map((p) => p.stderr()).join("\n")).toHaveLength(1);
    expect(trainSteps(out)).toEqual([1, 2, 3, 4]);
    expect(status(out).state).toBe("done");
    expect(fs.existsSync(path.join(out, ".lock"))).toBe(false);
  });
});

// In-process, so that both signals land in the same step for certain (two real signals sent
// back to back may merge in the kernel, or straddle a step); process.exit is intercepted.
describe("a second signal", () => {
  it.each([["SIGINT", 130], ["SIGTERM", 143]] as const)("%s twice quits at once (exit %i) with status.json stopped at the last checkpoint", async (sig, code) => {
    const out = path.join(tmpDir("twice"), "run");
    const exits: unknown[] = [];
    const exit = vi.spyOn(process, "exit").mockImplementation(((c?: number) => { exits.push(c); }) as typeof process.exit);
    let seen: { state: string; step: number; message: string } | undefined;
    const timer = setInterval(() => {
      if (seen || stepsDone(out) < 3) return;
      process.emit(sig);
      process.emit(sig);
      seen = status(out);
    }, 5);
    try {
      await train({ ...TINY, out, steps: 400, ckptEvery: 2, handleSigint: true });
    } finally {
      clearInterval(timer);
      exit.mockRestore();
    }
    expect(exits).toEqual([code]);
    expect(seen?.state).toBe("stopped");
    expect(seen?.step).toBeGreaterThanOrEqual(2);
    expect(seen?.step).toBeLessThanOrEqual(stepsDone(out));
    expect(seen?.message).toMatch(new RegExp(`quit by a second ${sig} without saving; continue from step ${seen?.step} with dilemma-cli train --resume`));
  });
});
