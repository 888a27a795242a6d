// The `dilemma-cli` program: dispatches subcommands; returns an exit code instead of exiting so
// tests can call it in-process.
import * as path from "node:path";
import { helpText, parseCommand, UsageError, type CommandDef } from "./args.js";
import { benchEmbed, benchTrain } from "./bench.js";
import { benchCommand, COMMANDS, dataCommand, detectCommand, evalCommand, exportCommand, trainCommand, viewCommand } from "./commands.js";
import { BENCH_DEFAULTS, DATA_INFO_IMG_SIZE, DEFAULT_ENGINE } from "./defaults.js";
import { datasetInfo, formatDatasetInfo } from "./data/index.js";
import { selectEngine } from "./engine.js";
import { detect } from "./detect.js";
import { InputError } from "./errors.js";
import { exportRun } from "./export.js";
import { evaluate } from "./run-eval.js";
import { serve } from "./serve.js";
import { studyCommand, studyMain, type StudyFlags } from "./study/command.js";
import { fmtDetection, fmtPct, train, TrainError } from "./train.js";
import { VERSION } from "./version.js";

/** Where the program writes (injectable for tests). */
export interface Io { out: (s: string) => void; err: (s: string) => void }
const stdio: Io = { out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n") };

function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [`dilemma-cli ${VERSION}: DILEMMA self-supervised ViT pretraining`, "", "Usage: dilemma-cli <command> [options]", "", "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}${c.summary}`), "", "Run `dilemma-cli <command> --help` for a command's options."].join("\n");
}

const rel = (p: string): string => {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith("..") && !path.isAbsolute(r) ? r : p;
};

/** Runs the program on `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") { io.out(mainHelp()); return name ? 0 : 2; }
  if (name === "--version" || name === "-v") { io.out(VERSION); return 0; }
  const def = COMMANDS.find((c) => c.name === name) as CommandDef<unknown> | undefined;
  try {
    if (!def) throw new UsageError(`unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
    const opts = parseCommand(def, rest);
    if (opts === null) { io.out(helpText(def)); return 0; }
    if (name === studyCommand.name) return await studyMain(opts as StudyFlags, io, rest);
    return await run(name, opts as Record<string, unknown> & { positionals: string[] }, io);
  } catch (e) {
    if (e instanceof UsageError) { io.err(e.message); return 2; }
    if (e instanceof InputError) { io.err(`dilemma-cli ${name}: ${e.message}`); return 2; }
    if (e instanceof TrainError) { io.err(`dilemma-cli ${name}: ${e.message}`); return 1; }
    io.err(`dilemma-cli ${name}: ${(e as Error).message}`);
    if (process.env.DILEMMA_DEBUG) io.err(String((e as Error).stack));
    return 1;
  }
}

/** Accuracy of answering the majority class for every kept patch (what detecting nothing scores). */
function chanceOf(corrupted: (number | null)[]): number | undefined {
  const kept = corrupted.filter((c): c is number => c !== null);
  if (kept.length === 0) return undefined;
  const wrong = kept.filter((c) => c === 1).length;
  return Math.max(wrong, kept.length - wrong) / kept.length;
}

async function run(name: string, o: Record<string, unknown> & { positionals: string[] }, io: Io): Promise<number> {
  const json = Boolean(o.json);
  switch (name) {
    case trainCommand.name: {
      const { positionals: _p, json: _j, ...t } = o;
      const r = await train({ ...(t as Parameters<typeof train>[0]), handleSigint: true });
      if (json) io.out(JSON.stringify(r));
      const where = rel(r.runDir);
      if (r.state === "stopped") {
        io.err(`stopped at step ${r.step}/${r.totalSteps}; checkpoint saved in ${where}. Continue with: npx dilemma-cli train --resume ${where}`);
        return r.signal === "SIGTERM" ? 143 : 130;
      }
      if (!json) {
        io.out(`run: ${where} (${r.step} steps, ${r.seconds.toFixed(0)} s, engine ${r.engine})`);
        io.out(`kNN accuracy: ${fmtPct(r.knnAcc)}   ${fmtDetection(r)}`);
        io.out(`view it: npx dilemma-cli view ${where}`);
      }
      return 0;
    }
    case evalCommand.name: {
      await selectEngine((o.engine as never) ?? DEFAULT_ENGINE, { precision: o.precision as never });
      const r = await evaluate({ target: o.positionals[0], ...(o as object) });
      if (json) { io.out(JSON.stringify(r)); return 0; }
      io.out(`${rel(r.runDir)} @ step ${r.step}: ${r.numTrain} train / ${r.numTest} ${r.split} images of ${r.data}`);
      io.out(`  (seeded class-balanced samples, eval seed ${r.settings.seed}; the run's eval settings unless given)`);
      io.out(`kNN accuracy (k=${r.settings.k}): ${fmtPct(r.knnAcc)}   linear probe: ${fmtPct(r.linearProbeAcc)}`);
      if (r.detection) {
        const d = r.detection;
        io.out(`detection (drop ${d.tokenDrop}, p ${d.dilemmaProb}, seed ${d.seed}): accuracy ${fmtPct(d.accuracy)} (chance ${fmtPct(d.chance)})   balanced accuracy ${fmtPct(Number.isFinite(d.balancedAccuracy) ? d.balancedAccuracy : undefined)}   AUROC ${d.auroc.toFixed(3)}   (${d.tokens} tokens, ${d.misplaced} misplaced)`);
      }
      return 0;
    }
    case detectCommand.name: {
      await selectEngine((o.engine as never) ?? DEFAULT_ENGINE, { precision: o.precision as never });
      const { results, skipped } = await detect({ ...(o as object), target: o.positionals[0], input: o.positionals[1] });
      if (json) io.out(JSON.stringify(results));
      else for (const x of results) io.out(`${rel(x.png)}  (accuracy ${fmtPct(x.accuracy)}, chance ${fmtPct(chanceOf(x.corrupted))}; ${rel(x.json)})`);
      if (skipped.length) io.err(`skipped ${skipped.length} unreadable image${skipped.length === 1 ? "" : "s"}:\n${skipped.map((x) => `  ${rel(x.image)}: ${x.reason}`).join("\n")}`);
      return 0;
    }
    case benchCommand.name: {
      if (o.embed) {
        const r = await benchEmbed({ engine: o.engine as never, precision: o.precision as never, reps: o.reps as number | undefined });
        if (json) io.out(JSON.stringify(r));
        else for (const x of r.results) io.out(`DilemmaEmbed B=${x.shape.B} L=${x.shape.L} K=${x.shape.K} D=${x.shape.D} [${r.engine}]: forward ${x.usMedian.forward.toFixed(1)} us (${x.GBps.forward.toFixed(2)} GB/s), forward+backward ${x.usMedian.forwardBackward.toFixed(1)} us`);
        return 0;
      }
      const r = await benchTrain({
        preset: (o.preset as never) ?? BENCH_DEFAULTS.preset, engine: o.engine as never, precision: o.precision as never,
        steps: o.steps as number | undefined, warmup: o.warmup as number | undefined,
        onStep: json ? undefined : (i, sec) => io.err(`  step ${i + 1}: ${sec.toFixed(3)} s`),
      });
      if (json) io.out(JSON.stringify(r));
      else io.out(`${r.preset} [${r.engine}${r.engine === "cuda" ? `/${r.precision}` : ""}]: ${r.imagesPerSecond.toFixed(1)} img/s (batch ${r.batch}, median step ${r.stepSecondsMedian.toFixed(3)} s over ${r.steps} steps after ${r.warmup} warm-up)`);
      return 0;
    }
    case viewCommand.name: {
      const s = await serve({ runs: o.positionals.length ? o.positionals : undefined, host: o.host as string | undefined, port: o.port as number | undefined });
      io.out(`serving ${s.runs.length} run${s.runs.length === 1 ? "" : "s"} at ${s.url}  (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      await s.close();
      return 0;
    }
    case exportCommand.name: {
      await selectEngine((o.engine as never) ?? DEFAULT_ENGINE, { precision: o.precision as never });
      const c = await exportRun(o.positionals[0], o.positionals[1]);
      io.out(`exported ${rel(c.source.run)} @ step ${c.source.step} to ${o.positionals[1]} (model.safetensors, model.json + weights.bin, config.json)`);
      return 0;
    }
    case dataCommand.name: {
      const info = await datasetInfo(o.positionals[0], { imageSize: (o.imgSize as number) ?? DATA_INFO_IMG_SIZE });
      io.out(json ? JSON.stringify(info) : formatDatasetInfo(info));
      return 0;
    }
  }
  throw new UsageError(`unknown command "${name}"`);
}
