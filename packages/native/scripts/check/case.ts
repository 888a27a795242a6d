// What a kernel case is, and what every op family file builds its cases from.
import type * as Core from "@dilemma/core";
import type * as Native from "@dilemma/native";
import type * as Tf from "@tensorflow/tfjs-core";
import type { HostArray, Rand } from "./inputs.js";
import type { Options } from "./options.js";

export type NativeModule = typeof Native;
export type CoreModule = typeof Core;
/** addon().gpu: the device runtime and kernels, on integer buffer ids (src/cuda/addon.ts). */
export type Gpu = NonNullable<ReturnType<NativeModule["addon"]>>["gpu"];
export type Precision = "fp32" | "tf32" | "bf16";
/** WHERE code: host buffers (CPU reference kernels) or a CUDA device. */
export type Where = Parameters<Gpu["alloc"]>[0];

/** The loaded modules and options every section runs with. */
export interface RunEnv {
  opts: Options;
  tf: typeof Tf;
  native: NativeModule;
  core: CoreModule;
  G: Gpu;
  /** WHERE code of the device under check (cuda, or host for a dry run). */
  dev: Where;
}

/**
 * Elementwise tolerance: bad where |got - ref| > atol + atolScale·rms(ref) + rtol·|ref|
 * (atolScale: slack relative to the output's scale, for sums that cancel).
 */
export interface Tol { rtol: number; atol?: number; atolScale?: number }
export interface Output { n: number; dtype: "float32" | "int32" }

export interface KernelCase {
  /** Printed and matched by --only (e.g. "unary Exp", "matMul fc1 +bias [bf16]"). */
  name: string;
  /** The op family file that made it (families/<family>.ts); set by the runner. */
  family?: string;
  shape: string;
  ins: HostArray[];
  outs: Output[];
  /** Launches the kernel on buffer ids (inputs uploaded, outputs allocated, all on one device). */
  call(ins: number[], outs: number[]): void;
  /** Per output; a shorter list repeats its first entry. */
  tol: Tol[];
  /** Byte model for GB/s; default touchedOnce(ins, outs). */
  bytes?: number;
  /** For TFLOP/s (matrix products). */
  flops?: number;
  precision?: Precision;
  /** Outputs start from the same random data on both sides instead of NaN (partial writes). */
  initOut?: boolean;
  initData?: Float32Array[];
}

/** What a family needs to build its cases at one batch size. */
export interface CaseContext {
  G: Gpu;
  native: NativeModule;
  core: CoreModule;
  rand: Rand;
  /** Batch of this case list (validation or timing). */
  B: number;
  forTiming: boolean;
  /** Batch cap for the matrix-product families when validating (the host reference is a CPU). */
  validateBatchMatmul: number;
}

export interface Family {
  /** --only key; also the file name under families/. */
  name: string;
  cases(ctx: CaseContext): KernelCase[];
}

// ViT-S/16 at 224 px, token drop 0.75: the shapes of the training step on the GPU.
export const D = 384, H = 6, HD = 64, DH = 1536, L = 196, KEPT = 49;
/** Tokens of the sparse encoder at batch B (cls + 49 kept). */
export const tokens = (B: number): number => B * (KEPT + 1);

export const EXACT: Tol = { rtol: 0, atol: 0 };
/** One rounded op each side (~4 ulp: fused or approximate division allowed). */
export const ROUND: Tol = { rtol: 5e-7, atol: 0 };
/** libm-class functions: a few ulp, plus near-zero slack. */
export const TRANS: Tol = { rtol: 2e-6, atolScale: 1e-6 };

export const f32 = (n: number): Output => ({ n, dtype: "float32" });
export const i32 = (n: number): Output => ({ n, dtype: "int32" });
export const size = (shape: number[]): number => shape.reduce((x, y) => x * y, 1);
export function contiguous(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}
/** The default byte model: every input and output touched once, 4 bytes an element. */
export const touchedOnce = (ins: HostArray[], outs: Output[]): number =>
  4 * (ins.reduce((s, a) => s + a.length, 0) + outs.reduce((s, o) => s + o.n, 0));
