/**
 * Loads the compiled addon (build/Release/dilemma_native.node) once. Never throws: when the
 * addon is missing, fails to load, or DILEMMA_NATIVE=off, `addon()` is null and
 * `addonLoadError()` says why.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCommand, installFailure } from "./build-fix.js";

/** Shape of info() (see NativeInfo in index.ts). */
export interface RawInfo {
  version: string;
  cuda: { compiled: boolean; archs: string; runtimeVersion: number | null; devices: number; cublas: { available: boolean; library: string; error: string | null } };
  blas: string;
  threads: number;
  blasThreads: number;
  dilemmaKernels: boolean;
}

import { opCodeMismatch, type GpuAddon, type OpCodeTables } from "./cuda/addon.js";

/** The N-API surface of the engine kernels (csrc/engine); DILEMMA kernels add more. */
export interface Addon {
  info(): RawInfo;
  setBlasThreads(n: number): void;
  /** The op codes it was built with (csrc/op_codes.h); must equal src/cuda/addon.ts's tables. */
  opCodes: OpCodeTables;
  matMul(
    a: Float32Array, b: Float32Array, out: Float32Array,
    batchA: number, batchB: number, batchOut: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, bias: Float32Array | null, biasLen: number, act: number, alpha: number,
    idxA?: Int32Array, idxB?: Int32Array,
  ): void;
  sgemmBuiltin(a: Float32Array, b: Float32Array, out: Float32Array, m: number, n: number, k: number,
    transA: boolean, transB: boolean): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: number[], aStrides: number[], bStrides: number[]): void;
  addN(out: Float32Array, inputs: Float32Array[]): void;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, r: number, inner: number): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  transpose(x: Float32Array, out: Float32Array, shape: number[], perm: number[]): void;
  geluErf(x: Float32Array, out: Float32Array): void;
  geluErfGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void;
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, out: Float32Array, rows: number, d: number, eps: number): void;
  layerNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, dx: Float32Array, dGamma: Float32Array,
    dBeta: Float32Array, rows: number, d: number, eps: number): void;
  stridedCopy(src: Float32Array, dst: Float32Array, shape: number[], srcOffset: number, srcStrides: number[],
    dstOffset: number, dstStrides: number[]): void;
  /**
   * FusedAttention (docs/ops.md): x [B, N, D] -> out, and the saved qkv [B, N, 3D], probs
   * [B, H, N, N], ctx [B, N, D] (all three null: inference, nothing saved).
   */
  attention(x: Float32Array, qkvW: Float32Array, qkvB: Float32Array, projW: Float32Array, projB: Float32Array,
    out: Float32Array, qkv: Float32Array | null, probs: Float32Array | null, ctx: Float32Array | null, B: number, N: number, D: number, H: number): void;
  attentionGrad(dy: Float32Array, x: Float32Array, qkvW: Float32Array, projW: Float32Array, qkv: Float32Array,
    probs: Float32Array, ctx: Float32Array, dx: Float32Array, dQkvW: Float32Array, dQkvB: Float32Array, dProjW: Float32Array,
    dProjB: Float32Array, B: number, N: number, D: number, H: number): void;
  /** FusedMlp: x [rows, D] -> out [rows, D], saved pre / act [rows, Hd] (both null: inference). */
  mlp(x: Float32Array, fc1W: Float32Array, fc1B: Float32Array, fc2W: Float32Array, fc2B: Float32Array, out: Float32Array,
    pre: Float32Array | null, act: Float32Array | null, rows: number, D: number, Hd: number): void;
  /** AdamWUpdate (core's op, bit-identical to its cpu kernel): outputs may alias inputs. */
  adamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, stepSize: number, sqrtBc2: number): void;
  /** EmaUpdate: out = target + (source - target)*(1-momentum), rounded as core's cpu kernel. */
  ema(target: Float32Array, source: Float32Array, out: Float32Array, momentum: number): void;
  mlpGrad(dy: Float32Array, x: Float32Array, fc1W: Float32Array, fc2W: Float32Array, pre: Float32Array, act: Float32Array,
    dx: Float32Array, dFc1W: Float32Array, dFc1B: Float32Array, dFc2W: Float32Array, dFc2B: Float32Array,
    rows: number, D: number, Hd: number): void;
  /** The `cuda` backend's runtime and kernels (src/cuda/addon.ts). */
  gpu: GpuAddon;
  [name: string]: unknown;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Package root: dist/ or src/ sit one level below it. */
export const packageRoot = join(here, "..");
/** The compiled addon; env DILEMMA_ADDON points elsewhere (e.g. a DILEMMA_BUILD_DIR build). */
export const addonPath = process.env.DILEMMA_ADDON ?? join(packageRoot, "build", "Release", "dilemma_native.node");

let loaded: Addon | null | undefined;
let error: string | null = null;

export function addon(): Addon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if ((process.env.DILEMMA_NATIVE ?? "").toLowerCase() === "off") {
    error = "DILEMMA_NATIVE=off";
    return null;
  }
  if (!existsSync(addonPath)) {
    const failed = installFailure(dirname(dirname(addonPath)));
    error = failed ? `the addon's build at install failed: ${failed}`
      : "the addon is not built (its install script did not run, or was skipped)";
    return null;
  }
  try {
    loaded = createRequire(import.meta.url)(addonPath) as Addon;
    const mismatch = opCodeMismatch(loaded.opCodes);
    if (mismatch !== null) {
      error = `${addonPath} was built from other sources than this package (op codes differ: ${mismatch}); rebuild it`;
      loaded = null;
    }
  } catch (e) {
    error = `loading ${addonPath} failed: ${(e as Error).message}`;
    loaded = null;
  }
  return loaded;
}

export function addonLoadError(): string | null {
  addon();
  return error;
}

/** The one command that builds the addon on this machine (null when it loaded or DILEMMA_NATIVE=off). */
export function addonBuildCommand(): string | null {
  addon();
  return loaded || error === "DILEMMA_NATIVE=off" ? null : buildCommand(packageRoot);
}
