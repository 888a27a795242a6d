// dilemma-cli as a library: everything the commands do is callable.
export { VERSION } from "./version.js";
export { main, type Io } from "./cli.js";
export { train, TrainError, type TrainOptions, type RunSummary } from "./train.js";
export { evaluate, type EvalOptions, type EvalResult } from "./run-eval.js";
export { detect, type DetectOptions, type DetectResult, type DetectRun } from "./detect.js";
export { exportRun, checkExportDestination, type ExportConfig } from "./export.js";
export { InputError } from "./errors.js";
export { serve, safeResolve, hostAllowed, discoverRuns, type ServeOptions, type Server } from "./serve.js";
export { benchTrain, benchEmbed, BENCH_PRESET_NAMES, type BenchPreset, type BenchResult } from "./bench.js";
export { knnAccuracy, linearProbeAccuracy, detectionScores } from "./metrics.js";
export { resolveCheckpoint, listCheckpoints, type CheckpointState } from "./checkpoint.js";
export { writeFileAtomic, writeJsonAtomic } from "./atomic.js";
export type { RunConfig, RunStatus, MetricsLine } from "./run-dir.js";
export { runStudy, type StudyDeps, type RunnerOptions, type StudyOutcome } from "./study/run.js";
export { defaultSpec, parseSpec, expandMatrix, type StudySpec, type MatrixRun } from "./study/spec.js";
export { aggregate, type StudyResults } from "./study/aggregate.js";
export { welchInterval, tQuantile, verdict, type Verdict } from "./study/stats.js";
export { occlusionEval } from "./occlusion.js";
