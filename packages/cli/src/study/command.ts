// `dilemma-cli study`: flags, the spec they resolve to, and the command's output.
import * as path from "node:path";
import { z } from "zod";
import { bool, num, oneOf, type CommandDef, type FlagDef } from "../args.js";
import { DEFAULT_ENGINE, ENGINES, PRECISIONS, engineFlag, precisionFlag } from "../defaults.js";
import { selectEngine } from "../engine.js";
import { runStudy } from "./run.js";
import { dataKey, defaultSpec, expandMatrix, findCifar10, parseSpec, readSpecFile, STUDY_METHODS, type StudySpec } from "./spec.js";

const s = (desc: string, def?: string): FlagDef => ({ type: "string", desc, ...(def !== undefined ? { default: def } : {}) });
const b = (desc: string): FlagDef => ({ type: "boolean", desc });
const list = z.string().transform((v) => v.split(",").map((x) => x.trim()).filter(Boolean));

const studySchema = z.object({
  spec: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  data: list.optional(),
  methods: list.optional(),
  seeds: z.string().regex(/^\d+(,\d+)*$/, { error: "expected seeds like 0,1,2" }).transform((v) => v.split(",").map(Number)).optional(),
  budget: num({ min: 0, minExclusive: true }).optional(),
  cifarDir: z.string().min(1).optional(),
  engine: oneOf(ENGINES).optional(),
  precision: oneOf(PRECISIONS).optional(),
  maxRuns: num({ int: true, min: 1 }).optional(),
  dryRun: bool().optional(),
  quiet: bool().optional(),
  json: bool().optional(),
  positionals: z.array(z.string()),
});
export type StudyFlags = z.infer<typeof studySchema>;

export const studyCommand: CommandDef<StudyFlags> = {
  name: "study",
  summary: "Train and evaluate a matrix of configurations x seeds at an equal wall-clock budget per run; tables, verdicts and charts (resumable).",
  usage: "dilemma-cli study [options]",
  maxPositionals: 0,
  flags: {
    spec: s("JSON file: fields replace the default spec's (name, datasets, methods, recipe, arms, seeds, budget, warmupFraction, evalPoints, eval)"),
    out: s("study directory; run the same command again to continue a stopped study", "studies/<spec name>"),
    data: s("data sets, comma-separated (replaces the spec's)", "shapes,mnist"),
    methods: s(`methods, comma-separated: ${STUDY_METHODS.join(", ")}`, STUDY_METHODS.join(",")),
    seeds: s("seeds, comma-separated", "0,1,2"),
    budget: s("seconds of training steps per run", "300"),
    "cifar-dir": s("add cifar10 when its binary files are under this folder (the results say when they are not)"),
    engine: engineFlag(),
    precision: precisionFlag(),
    "max-runs": s("train at most this many runs now, then stop (resumable)"),
    "dry-run": b("print the spec and the matrix of runs, train nothing"),
    quiet: b("no per-step progress (the study's own lines still print)"),
    json: b("print the results summary as JSON"),
    config: s("JSON file of flag values"),
  },
  examples: [
    "dilemma-cli study --dry-run",
    "dilemma-cli study --budget 300 --out studies/dilemma-vs-plain",
    "dilemma-cli study --data shapes --methods mocov3 --seeds 0,1 --budget 15 --out studies/smoke",
  ],
  schema: studySchema,
};

/** The spec the flags describe, and the notes the results must carry (e.g. CIFAR-10 left out). */
export function resolveStudySpec(o: StudyFlags): { spec: StudySpec; notes: string[] } {
  const base = o.spec ? readSpecFile(o.spec) : defaultSpec();
  const spec: StudySpec = { ...base };
  if (o.data) spec.datasets = o.data;
  if (o.methods) spec.methods = o.methods as StudySpec["methods"];
  if (o.seeds) spec.seeds = o.seeds;
  if (o.budget !== undefined) spec.budget = o.budget;
  const notes: string[] = [];
  if (!spec.datasets.some((d) => d.startsWith("cifar10:"))) {
    if (o.cifarDir) {
      const dir = findCifar10(o.cifarDir);
      if (dir) spec.datasets = [...spec.datasets, `cifar10:${path.resolve(dir)}`];
      else notes.push(`CIFAR-10 left out: its binary files (data_batch_1..5.bin, test_batch.bin) are not under ${o.cifarDir}.`);
    } else if (!o.data) {
      // The default comparison names CIFAR-10; say why it is missing (not when --data chose the sets).
      notes.push("CIFAR-10 left out: no --cifar-dir was given.");
    }
  }
  return { spec: parseSpec(spec, "dilemma-cli study"), notes };
}

/** Runs the command; resolves to the exit code. */
export async function studyMain(o: StudyFlags, io: { out: (s: string) => void; err: (s: string) => void }, argv?: string[]): Promise<number> {
  const { spec, notes } = resolveStudySpec(o);
  const runs = expandMatrix(spec);
  const out = o.out ?? path.join("studies", spec.name);
  if (o.dryRun) {
    io.out(JSON.stringify(spec, null, 2));
    io.out(`${runs.length} runs (${spec.datasets.map(dataKey).join(", ")} x ${spec.methods.join(", ")} x ${Object.keys(spec.arms).join(", ")} x seeds ${spec.seeds.join(", ")}), ${spec.budget} s each, into ${out}`);
    for (const n of notes) io.out(`note: ${n}`);
    return 0;
  }
  await selectEngine(o.engine ?? DEFAULT_ENGINE, { precision: o.precision });
  const r = await runStudy(spec, {
    out, engine: o.engine, precision: o.precision, quiet: o.quiet, maxRuns: o.maxRuns, notes, handleSigint: true,
    command: argv ? ["npx dilemma-cli study", ...argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))].join(" ") : undefined, log: (l) => io.err(l),
  });
  if (o.json) io.out(JSON.stringify({ dir: path.resolve(out), complete: r.complete, trainedNow: r.trainedNow, files: r.files }));
  if (!r.complete) {
    io.err(`study stopped; results so far in ${path.join(out, "results.md")}; continue it with the same command (${out}/study.json keeps its state)`);
    return r.interrupted ? 130 : 0;
  }
  if (!o.json) io.out(`study done: ${path.join(out, "results.md")} (${r.files.length} files)`);
  return 0;
}
