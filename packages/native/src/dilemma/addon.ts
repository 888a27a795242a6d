/**
 * Typed access to the DILEMMA functions of the native addon (csrc/dilemma/dilemma_napi.cc).
 */
import { addon, addonLoadError } from "../addon.js";

/** One row of {@link CudaDilemmaCheckResult}. */
export interface CudaDilemmaCheckRow {
  /** "embed_fwd", "embed_bwd", "embed_bwd_atomic" or "embed_fwd_bwd". */
  kernel: string;
  /** Max |CUDA - CPU reference| (NaN when the CUDA output still holds the NaN poison). */
  maxAbsErr: number;
  /** Elements outside the tolerance (exact match for the deterministic kernels). */
  mismatches: number;
  /** Median time of one launch sequence, microseconds (cudaEvent). */
  us: number;
  /** Bytes moved by the op's byte model (pytorch_bench.py), 0 where none applies. */
  bytes: number;
}

/** Result of `cudaDilemmaCheck` for one shape. */
export interface CudaDilemmaCheckResult {
  device: string;
  /** Compute capability, e.g. "9.0". */
  cc: string;
  /** cudaMemcpy device-to-device bandwidth in this run, (read + write) GB/s. */
  copyGBps: number;
  /** True when an out-of-range index made the forward kernel raise its error flag. */
  boundsErrorDetected: boolean;
  rows: CudaDilemmaCheckRow[];
}

/** The DILEMMA surface of the addon. Arrays are used in place; sizes must match the shape exactly. */
export interface DilemmaAddon {
  dilemmaEmbedForward(
    tokens: Float32Array, pos: Float32Array, realPos: Int32Array, inputPos: Int32Array,
    B: number, L: number, K: number, D: number, out: Float32Array,
  ): void;
  dilemmaEmbedBackward(
    dy: Float32Array, realPos: Int32Array, inputPos: Int32Array,
    B: number, L: number, K: number, D: number, dTokens: Float32Array, dPos: Float32Array,
  ): void;
  /** Present only when the addon was compiled with CUDA; throws "no CUDA device ..." without one. */
  cudaDilemmaCheck?(options: { B: number; L: number; K: number; D: number; p?: number; seed?: number; step?: number; reps?: number }):
    CudaDilemmaCheckResult;
}

/** True when the addon is loaded and has the DILEMMA kernels compiled in. */
export function hasDilemmaKernels(): boolean {
  const a = addon();
  return a !== null && typeof a.dilemmaEmbedForward === "function";
}

/**
 * The DILEMMA functions of the addon.
 * @throws Error naming why they are unavailable (addon not built / built without csrc/dilemma).
 */
export function dilemmaAddon(): DilemmaAddon {
  const a = addon();
  if (a === null) throw new Error(`@dilemma/native DILEMMA kernels are unavailable: ${addonLoadError()}`);
  if (typeof a.dilemmaEmbedForward !== "function") {
    throw new Error("@dilemma/native: the addon was built without csrc/dilemma; rebuild with `npm run build:addon -w @dilemma/native`");
  }
  return a as unknown as DilemmaAddon;
}
