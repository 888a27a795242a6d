// Command line of the device check (see main.ts for the list). Parsed once, read everywhere.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Precision } from "./case.js";

export const SECTION_NAMES = ["info", "kernels", "embed-atomic", "parity", "torch", "throughput"] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

export interface Options {
  argv: string[];
  device: "cuda" | "host";
  quick: boolean;
  addon: string | null;
  strict: boolean;
  /** Timing batch, validation batch, validation batch of the matrix-product families. */
  batch: number; validateBatch: number; validateBatchMatmul: number;
  reps: number;
  /** Seconds for the whole run; sections that would overrun are skipped. */
  budget: number;
  sections: string[];
  /** Kernel families or case names to run (empty: all). */
  only: string[];
  torchScript: string;
  python: string;
  noTorch: boolean;
  child: boolean; childOut: string | null; kernelFrom: number;
  /** Each device section in its own process (default on a GPU). */
  isolate: boolean;
  timeOnHost: boolean;
  parity: { vit: string; batch: number; precisions: Precision[]; floor: boolean };
  throughputPrecisions: Precision[];
  /** "preset:precision": one throughput configuration (a child process each). */
  thrOnly: string | null;
}

/** Parses argv; `here` is the folder of the (bundled) script, where cuda-check.sh puts its files. */
export function parseOptions(args: string[], here: string): Options {
  const has = (name: string) => args.includes(name);
  const opt = (name: string, def: string) => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
  };
  const list = (s: string) => s.split(",").filter((x) => x !== "");
  const device = opt("--device", "cuda");
  if (device !== "cuda" && device !== "host") throw new Error(`--device must be cuda or host, got ${device}`);
  const quick = has("--quick");
  const bundledAddon = join(here, "dilemma_native.node");
  const bundledTorch = join(here, "torch_cuda_bench.py");
  const only = list(opt("--only", ""));
  const child = has("--child");
  return {
    argv: args, device, quick,
    addon: args.includes("--addon") ? opt("--addon", "") : existsSync(bundledAddon) ? bundledAddon : null,
    strict: !has("--no-strict"),
    batch: Number(opt("--batch", quick ? "2" : "256")),
    validateBatch: Number(opt("--validate-batch", quick ? "2" : "64")),
    validateBatchMatmul: Number(opt("--validate-batch-matmul", quick ? "2" : "16")),
    reps: Number(opt("--reps", quick ? "3" : "20")),
    // < 7 min on the device with node and addon unpacking (a device machine is lent for 15 min in all).
    budget: Number(opt("--budget", quick ? "900" : "400")),
    // --only checks kernels: by default it runs just the info and kernel sections
    sections: list(opt("--sections", only.length ? "info,kernels" : SECTION_NAMES.join(","))),
    only,
    torchScript: resolve(opt("--torch-script", existsSync(bundledTorch) ? bundledTorch : join(here, "..", "torch_cuda_bench.py"))),
    python: opt("--python", process.env.DILEMMA_PYTHON || "python3"),
    noTorch: has("--no-torch"),
    child, childOut: opt("--child-out", "") || null, kernelFrom: Number(opt("--kernel-from", "0")),
    isolate: !child && !has("--no-isolate") && (device === "cuda" || has("--isolate")),
    timeOnHost: has("--time-on-host"),
    // Batch >= 8: at batch 4 the BatchNorm'd projector / predictor and the contrastive loss make
    // the step ill-conditioned (two fp32 CPU engines, tfjs cpu and native, then differ by ~6e-4 in
    // the gradients; at batch 16, by ~7e-6), which would hide the precision being checked.
    parity: {
      vit: quick ? "micro32" : opt("--parity-vit", "vit-small"),
      batch: quick ? 16 : Number(opt("--parity-batch", "16")),
      precisions: list(opt("--parity-precisions", quick ? "fp32,bf16" : "fp32,tf32,bf16")) as Precision[],
      // The fp32 noise floor: the same step on tfjs's pure-JS cpu backend (another fp32 engine);
      // too slow for vit-small, so on by default only with --quick.
      floor: has("--parity-floor") || quick,
    },
    throughputPrecisions: list(opt("--throughput-precisions", "bf16,tf32")) as Precision[],
    thrOnly: opt("--thr-only", "") || null,
  };
}
