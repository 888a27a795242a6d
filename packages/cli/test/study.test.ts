// Bookkeeping of `dilemma-cli study` on fake runs: the matrix, the budget, resume after a kill,
// aggregation and the results table. No training here (see time-budget.test.ts for train).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { aggregate, metricTable, resultsMarkdown } from "../src/study/aggregate.js";
import { resolveStudySpec } from "../src/study/command.js";
import { runStudy, stepSeconds, type StudyDeps } from "../src/study/run.js";
import { budgetSteps, defaultSpec, expandMatrix, parseSpec, StudySpecError, trainOptionsFor, type StudySpec } from "../src/study/spec.js";
import { serve } from "../src/serve.js";
import { expandStudyDirs, readState, type RunEval, type StudyState } from "../src/study/state.js";
import type { RunSummary, TrainOptions } from "../src/train.js";
import { tmpDir } from "./helpers.js";

function smallSpec(over: Partial<StudySpec> = {}): StudySpec {
  return parseSpec({ ...defaultSpec(), datasets: ["shapes"], methods: ["mocov3", "dino"], seeds: [0, 1], budget: 60, ...over });
}

/** A fake train: writes config/status/metrics like train does, optionally "killed" mid-run. */
function fakeDeps(o: { killAt?: string; secondsPerStep?: Record<string, number[]> } = {}) {
  const calls = { train: [] as TrainOptions[], calibrate: [] as string[], evaluate: [] as string[] };
  const deps: StudyDeps = {
    async train(t) {
      calls.train.push(t);
      const dir = t.resume ?? t.out!;
      const cfgFile = path.join(dir, "config.json");
      const cfg = t.resume ? JSON.parse(fs.readFileSync(cfgFile, "utf8")) : { steps: t.steps, timeBudget: t.timeBudget, arm: t.dilemmaProb ? "dilemma" : "plain" };
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(cfgFile, JSON.stringify(cfg));
      if (o.killAt && dir.endsWith(o.killAt) && !t.resume) {
        fs.writeFileSync(path.join(dir, "status.json"), JSON.stringify({ state: "running", step: 2, totalSteps: cfg.steps }));
        throw new Error("killed");
      }
      // A hard budget ends a plain run at 80% of its schedule; dilemma runs finish theirs.
      const done = cfg.arm === "plain" && cfg.timeBudget ? Math.floor(cfg.steps * 0.8) : cfg.steps;
      fs.writeFileSync(path.join(dir, "status.json"), JSON.stringify({ state: "done", step: done, totalSteps: cfg.steps }));
      fs.writeFileSync(path.join(dir, "metrics.jsonl"), [1, 2].map((k) => JSON.stringify({ kind: "eval", step: k, time: k, trainTime: k * 10, knnAcc: 0.2 * k })).join("\n") + "\n");
      return { runDir: dir, state: "done", step: done, totalSteps: cfg.steps, seconds: 1, engine: "fake", losses: [], trainTime: cfg.timeBudget, budgetSpent: done < cfg.steps } satisfies RunSummary;
    },
    async calibrate(_spec, run) {
      calls.calibrate.push(run.configId);
      // Per arm, one value per timing round (cycled).
      const xs = o.secondsPerStep?.[run.arm] ?? [0.5];
      return { secondsPerStep: xs[(calls.calibrate.filter((c) => c === run.configId).length - 1) % xs.length], measuredSteps: 10 };
    },
    async evaluateRun(runDir): Promise<RunEval> {
      calls.evaluate.push(path.basename(runDir));
      const id = path.basename(runDir);
      const seed = Number(id.slice(id.lastIndexOf("-s") + 2));
      const bonus = id.includes("-dilemma-") ? 0.1 : 0;
      return { step: 1, trainTime: 60, split: "val", numTrain: 10, numTest: 5, knnAcc: 0.4 + bonus, linearProbeAcc: 0.5 + 0.02 * seed + bonus, occlusion: { "0.5": 0.3 + 0.01 * seed } };
    },
    report: async () => ["results.json"],
  };
  return { deps, calls };
}

describe("study spec and matrix", () => {
  it("the default spec expands to 36 runs, seed-major, arms adjacent, differing only in the DILEMMA flags", () => {
    const spec = defaultSpec();
    const runs = expandMatrix(spec);
    expect(runs).toHaveLength(2 * 3 * 2 * 3);
    expect(new Set(runs.map((r) => r.id)).size).toBe(36);
    expect(runs.slice(0, 3).map((r) => r.id)).toEqual(["shapes-mocov3-plain-s0", "shapes-mocov3-dilemma-s0", "shapes-dino-plain-s0"]);
    expect(runs.slice(0, 12).every((r) => r.seed === 0)).toBe(true);
    expect(runs.at(-1)!.id).toBe("mnist-simclr-dilemma-s2");
    const a = trainOptionsFor(spec, runs[0]), b = trainOptionsFor(spec, runs[1]);
    expect({ ...a, tokenDrop: 0, dilemmaProb: 0 }).toEqual({ ...b, tokenDrop: 0, dilemmaProb: 0 });
    expect([a.tokenDrop, a.dilemmaProb, b.tokenDrop, b.dilemmaProb]).toEqual([0, 0, 0.75, 0.2]);
  });

  it("rejects bad specs with the field named", () => {
    expect(() => parseSpec({ ...defaultSpec(), seeds: [0, 0] })).toThrow(/seeds: 0 is listed twice/);
    expect(() => parseSpec({ ...defaultSpec(), recipe: { steps: 10 } })).toThrow(/recipe/);
    expect(() => parseSpec({ ...defaultSpec(), budget: 0 })).toThrow(/budget/);
    expect(() => parseSpec({ ...defaultSpec(), methods: ["byol"] })).toThrow(/methods/);
    expect(() => parseSpec({ ...defaultSpec(), datasets: ["shapes", "imagenet"] })).toThrow(/datasets\.1: unknown data spec "imagenet"/);
    expect(() => parseSpec({ ...defaultSpec(), datasets: ["folder:/no/such/dir"] })).toThrow(/datasets\.0: \/no\/such\/dir does not exist/);
    expect(() => expandMatrix({ ...defaultSpec(), datasets: ["shapes", "shapes"] })).toThrow(StudySpecError);
  });

  it("budget: scheduled steps fill the budget at the calibrated step time; warm-up is the same fraction for every arm", () => {
    expect(budgetSteps(300, 0.7, 0.1)).toEqual({ steps: 428, warmup: 43 });
    expect(budgetSteps(300, 0.25, 0.1)).toEqual({ steps: 1200, warmup: 120 });
    expect(budgetSteps(1, 5, 0.1)).toEqual({ steps: 1, warmup: 0 });
    expect(() => budgetSteps(10, 0, 0.1)).toThrow(/positive/);
    // Calibration: mean step time after the warm steps, from the cumulative trainTime.
    const lines = [1, 2, 3, 4, 5, 6].map((step) => ({ step, trainTime: step <= 3 ? step * 2 : 6 + (step - 3) * 0.5 }));
    expect(stepSeconds(lines, 3)).toEqual({ secondsPerStep: 0.5, measuredSteps: 3 });
    expect(() => stepSeconds(lines.slice(0, 2), 3)).toThrow(/calibration/);
  });

  it("CIFAR-10 joins when its binary files are present, else the results say why not", () => {
    expect(resolveStudySpec({ positionals: [] }).notes).toEqual(["CIFAR-10 left out: no --cifar-dir was given."]);
    expect(resolveStudySpec({ positionals: [], data: ["shapes"] }).notes).toEqual([]);
    const empty = tmpDir("nocifar");
    const r1 = resolveStudySpec({ positionals: [], cifarDir: empty });
    expect(r1.spec.datasets).toEqual(["shapes", "mnist"]);
    expect(r1.notes[0]).toMatch(/not under/);
    const sub = path.join(empty, "cifar-10-batches-bin");
    fs.mkdirSync(sub);
    for (const f of ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"]) fs.writeFileSync(path.join(sub, f), "");
    const r2 = resolveStudySpec({ positionals: [], cifarDir: empty, seeds: [4, 5], budget: 12 });
    expect(r2.spec.datasets).toEqual(["shapes", "mnist", `cifar10:${sub}`]);
    expect(r2.notes).toEqual([]);
    expect([r2.spec.seeds, r2.spec.budget]).toEqual([[4, 5], 12]);
  });

  it("bad flags exit with code 2 and name the flag", async () => {
    const errs: string[] = [];
    const io = { out: () => {}, err: (s: string) => errs.push(s) };
    expect(await main(["study", "--seeds", "a,b"], io)).toBe(2);
    expect(await main(["study", "--methods", "byol", "--dry-run"], io)).toBe(2);
    expect(await main(["study", "--spec", "/nonexistent.json"], io)).toBe(2);
    expect(errs.join("\n")).toMatch(/--seeds/);
    expect(errs.join("\n")).toMatch(/methods/);
    expect(errs.join("\n")).toMatch(/file not found/);
    const outs: string[] = [];
    expect(await main(["study", "--dry-run", "--data", "shapes", "--seeds", "0,1"], { out: (s) => outs.push(s), err: () => {} })).toBe(0);
    expect(outs.join("\n")).toMatch(/12 runs \(shapes x mocov3, dino, simclr x plain, dilemma x seeds 0, 1\), 300 s each/);
  });
});

describe("runStudy on fake runs", () => {
  it("calibrates each configuration once, trains every run under the budget with its schedule, evaluates each", async () => {
    const dir = tmpDir("study");
    // The first value of each arm is its untimed warm-up round (discarded).
    const { deps, calls } = fakeDeps({ secondsPerStep: { plain: [5, 0.9, 0.5, 0.4], dilemma: [9, 0.2, 0.2, 0.3] } });
    const r = await runStudy(smallSpec({ stop: "budget" }), { out: dir }, deps);
    const st0 = () => readState(dir)!;
    expect(r.complete).toBe(true);
    // Each data set x method: its arms run an untimed warm-up round, then are timed in 3
    // alternating rounds, before its first run.
    const mo = ["shapes-mocov3-plain", "shapes-mocov3-dilemma"], di = ["shapes-dino-plain", "shapes-dino-dilemma"];
    expect(calls.calibrate).toEqual([...mo, ...mo, ...mo, ...mo, ...di, ...di, ...di, ...di]);
    expect(calls.train).toHaveLength(8);
    const plain = calls.train.find((t) => t.out!.endsWith("shapes-mocov3-plain-s1"))!;
    expect(plain).toMatchObject({ method: "mocov3", data: "shapes", seed: 1, steps: 120, warmup: 12, timeBudget: 60, tokenDrop: 0, dilemmaProb: 0, evalEvery: 20 });
    expect(st0().calibration["shapes-mocov3-plain"]).toMatchObject({ secondsPerStep: 0.5, rounds: [0.9, 0.5, 0.4] });
    const dil = calls.train.find((t) => t.out!.endsWith("shapes-mocov3-dilemma-s1"))!;
    expect(dil).toMatchObject({ steps: 300, warmup: 30, timeBudget: 60, tokenDrop: 0.75, dilemmaProb: 0.2 });
    const st = readState(dir)!;
    expect(st.runs.every((x) => x.phase === "evaluated")).toBe(true);
    const rec = st.runs.find((x) => x.id === "shapes-mocov3-plain-s1")!;
    expect(rec).toMatchObject({ steps: 120, budgetSpent: true, dir: path.join("runs", "shapes-mocov3-plain-s1") });
    expect(rec.load).toHaveLength(2);
    expect(st.machine).toMatch(/cores/);
    expect(st.calibration["shapes-dino-dilemma"]).toEqual({ secondsPerStep: 0.2, measuredSteps: 30, rounds: [0.2, 0.2, 0.3], steps: 300, warmup: 30 });
    // A second invocation has nothing left to do.
    const again = fakeDeps();
    await runStudy(smallSpec({ stop: "budget" }), { out: dir }, again.deps);
    expect([again.calls.train.length, again.calls.calibrate.length, again.calls.evaluate.length]).toEqual([0, 0, 0]);
  });

  it("resumes after a kill: finished runs are skipped, the partial run continues with --resume", async () => {
    const dir = tmpDir("study-kill");
    const first = fakeDeps({ killAt: "shapes-dino-plain-s0" });
    await expect(runStudy(smallSpec(), { out: dir }, first.deps)).rejects.toThrow("killed");
    const mid = readState(dir)!;
    expect(mid.runs.map((r) => r.phase).slice(0, 4)).toEqual(["evaluated", "evaluated", "training", "pending"]);
    expect(fs.existsSync(path.join(dir, "runs/shapes-dino-plain-s0/config.json"))).toBe(true);

    const second = fakeDeps();
    const r = await runStudy(smallSpec(), { out: dir }, second.deps);
    expect(r.complete).toBe(true);
    // The killed run was continued (not restarted), then the rest of the matrix ran.
    expect(second.calls.train[0]).toMatchObject({ resume: path.join(dir, "runs/shapes-dino-plain-s0") });
    expect(second.calls.train.slice(1).every((t) => !t.resume)).toBe(true);
    expect(second.calls.train).toHaveLength(6);
    expect(second.calls.evaluate).not.toContain("shapes-mocov3-plain-s0");
    expect(second.calls.evaluate).toHaveLength(6);
    // Calibrations of the first invocation are kept (a resumed run's schedule must not change).
    expect(second.calls.calibrate).toEqual([]);
    const rec = readState(dir)!.runs.find((x) => x.id === "shapes-dino-plain-s0")!;
    expect(rec).toMatchObject({ phase: "evaluated", resumed: 1 });
  });

  it("stop 'schedule' (the default): runs train their calibrated steps with no wall-clock stop", async () => {
    const dir = tmpDir("study");
    const { deps, calls } = fakeDeps({ secondsPerStep: { plain: [5, 0.5], dilemma: [9, 0.2] } });
    expect(defaultSpec().stop).toBe("schedule");
    await runStudy(smallSpec(), { out: dir }, deps);
    const plain = calls.train.find((t) => t.out!.endsWith("shapes-mocov3-plain-s0"))!;
    expect(plain).toMatchObject({ steps: 120, warmup: 12 });
    expect(plain.timeBudget).toBeUndefined();
    expect(readState(dir)!.runs.map((r) => r.budgetSpent)).toEqual(Array(8).fill(false));
  });

  it("a run trained but not yet evaluated when killed is evaluated, not retrained; maxRuns stops cleanly", async () => {
    const dir = tmpDir("study-max");
    const a = fakeDeps();
    const r = await runStudy(smallSpec(), { out: dir, maxRuns: 3 }, a.deps);
    expect([r.complete, r.interrupted, r.trainedNow, a.calls.train.length]).toEqual([false, false, 3, 3]);
    expect(r.files).toEqual(["results.json"]); // a partial report is written on stopping
    // Simulate a kill between training and evaluation of run 4.
    const st = readState(dir)!;
    const b = fakeDeps();
    await b.deps.train({ ...trainOptionsFor(st.spec, st.runs[3]), out: path.join(dir, st.runs[3].dir), steps: 10, timeBudget: 60 });
    const c = fakeDeps();
    await runStudy(smallSpec(), { out: dir }, c.deps);
    expect(c.calls.train.map((t) => path.basename(t.out ?? t.resume!))).not.toContain(st.runs[3].id);
    expect(c.calls.evaluate).toContain(st.runs[3].id);
  });

  it("refuses to mix a different spec into an existing study directory", async () => {
    const dir = tmpDir("study-spec");
    await runStudy(smallSpec(), { out: dir, maxRuns: 1 }, fakeDeps().deps);
    await expect(runStudy(smallSpec({ budget: 61 }), { out: dir }, fakeDeps().deps)).rejects.toThrow(/different spec/);
  });
});

describe("aggregation and the results table", () => {
  function stateWith(values: Record<string, number[]>): StudyState {
    const spec = parseSpec({ ...defaultSpec(), datasets: ["shapes"], methods: ["mocov3", "dino"], seeds: [0, 1, 2] });
    const runs = expandMatrix(spec).map((r) => {
      const v = values[`${r.method}-${r.arm}`]?.[r.seed];
      return { ...r, dir: `runs/${r.id}`, phase: v === undefined ? "pending" as const : "evaluated" as const, stepsDone: 100, trainTime: 60, load: [1.5 + r.seed, 0.5] as [number, number],
        ...(v === undefined ? {} : { result: { step: 100, trainTime: 60, split: "val", numTrain: 1, numTest: 1, linearProbeAcc: v, occlusion: {} } }) };
    });
    return { version: 1, spec, createdAt: "", updatedAt: "", notes: ["a note"], calibration: {}, runs, machine: "CPU × 2 cores" };
  }

  it("mean ± std per arm, the difference with its Welch interval, and the verdict per row", () => {
    const res = aggregate(stateWith({
      "mocov3-plain": [0.5, 0.52, 0.54], "mocov3-dilemma": [0.6, 0.61, 0.65],
      "dino-plain": [0.6, 0.61, 0.65], "dino-dilemma": [0.5, 0.52, 0.54],
    }));
    const m = res.cells[0].metrics[0];
    expect(m.metric).toBe("linearProbeAcc");
    expect(m.arms.plain).toMatchObject({ n: 3, seeds: [0, 1, 2] });
    expect(m.arms.plain.mean).toBeCloseTo(0.52, 12);
    expect(m.arms.plain.std).toBeCloseTo(0.02, 12);
    expect(m.comparisons[0].lo).toBeCloseTo(0.045238672699934854, 7);
    expect(m.comparisons[0].verdict).toBe("reproduced");
    expect(res.cells[1].metrics[0].comparisons[0].verdict).toBe("not reproduced");
    expect(res.complete).toBe(true);
    expect(metricTable(res, "linearProbeAcc").split("\n")).toEqual([
      "| data set | method | plain | dilemma | dilemma − plain (95% CI) | verdict |",
      "|---|---|---|---|---|---|",
      "| shapes | mocov3 | 52.0 ± 2.0 (n=3) | 62.0 ± 2.6 (n=3) | +10.0 [+4.5, +15.5] | reproduced |",
      "| shapes | dino | 62.0 ± 2.6 (n=3) | 52.0 ± 2.0 (n=3) | −10.0 [−15.5, −4.5] | not reproduced |",
    ]);
  });

  it("spanning 0 is inconclusive; too few seeds give no interval; the page says what is missing", () => {
    const res = aggregate(stateWith({ "mocov3-plain": [0.5, 0.6, 0.7], "mocov3-dilemma": [0.55, 0.6, 0.8], "dino-plain": [0.5], "dino-dilemma": [0.6, 0.7] }));
    const rows = metricTable(res, "linearProbeAcc").split("\n");
    expect(rows[2]).toMatch(/^\| shapes \| mocov3 \| 60\.0 ± 10\.0 \(n=3\) \| 65\.0 ± 13\.2 \(n=3\) \| \+5\.0 \[−\d+\.\d, \+\d+\.\d\] \| inconclusive \|$/);
    expect(rows[3]).toBe("| shapes | dino | 50.0 (n=1) | 65.0 ± 7.1 (n=2) | +15.0 (no CI: < 2 seeds per arm or no spread) | inconclusive |");
    expect(res.complete).toBe(false);
    const md = resultsMarkdown(res, ["accuracy.png"], "npx dilemma-cli study --budget 300");
    expect(md).toMatch(/incomplete/);
    expect(md).toContain("npx dilemma-cli study --budget 300");
    expect(md).toContain("- Note: a note");
    expect(md).toContain("- Machine: CPU × 2 cores; 1-minute load average 0.5–3.5 at the start and end");
    expect(md).toContain("![accuracy.png](accuracy.png)");
  });
});

describe("viewing a study", () => {
  it("dilemma-cli view <study dir> serves every run of the study", async () => {
    const dir = tmpDir("study-view");
    const staticDir = path.join(dir, "static");
    fs.mkdirSync(staticDir);
    fs.writeFileSync(path.join(staticDir, "index.html"), "<html></html>");
    const study = path.join(dir, "study");
    for (const r of ["shapes-mocov3-plain-s0", "shapes-mocov3-dilemma-s0", "half-made"]) fs.mkdirSync(path.join(study, "runs", r), { recursive: true });
    for (const r of ["shapes-mocov3-plain-s0", "shapes-mocov3-dilemma-s0"]) fs.writeFileSync(path.join(study, "runs", r, "config.json"), JSON.stringify({ method: "mocov3" }));
    fs.writeFileSync(path.join(study, "study.json"), "{}");
    const lone = path.join(study, "runs", "shapes-mocov3-plain-s0");
    expect(expandStudyDirs([study, lone])).toEqual([path.join(study, "runs", "shapes-mocov3-dilemma-s0"), lone, lone]);
    const s = await serve({ runs: [study], staticDir, port: 0 });
    try {
      const list = await (await fetch(`${s.url}api/runs`)).json() as { id: string }[];
      expect(list.map((r) => r.id)).toEqual(["shapes-mocov3-dilemma-s0", "shapes-mocov3-plain-s0"]);
    } finally {
      await s.close();
    }
  });
});
