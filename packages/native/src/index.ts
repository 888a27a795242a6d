/**
 * @dilemma/native: a tfjs backend "native" (tfjs-backend-cpu with BLAS and multithreaded C++
 * kernels for the hot ops) and the DILEMMA kernels, from a Node-API addon built at install time.
 * Everything degrades gracefully: without the addon `isAvailable()` is false and
 * `loadError()` says why.
 */
import { addon, addonBuildCommand, addonLoadError } from "./addon.js";

/** What the addon was built with and what it sees at run time. */
export interface NativeInfo {
  /** Package version the addon was built from. */
  version: string;
  cuda: {
    /** True when the CUDA kernels were compiled into the addon. */
    compiled: boolean;
    /** SM architectures compiled for, e.g. "80,90" (empty when not compiled). */
    archs: string;
    /** CUDA runtime version (e.g. 13000), null when not compiled. */
    runtimeVersion: number | null;
    /** Visible CUDA devices (0 without a GPU or driver). */
    devices: number;
    /**
     * cuBLAS, loaded at run time (dlopen of libcublas.so.13/.12, or $DILEMMA_CUBLAS): whether it
     * was found, which file, and otherwise why not and what to do.
     */
    cublas: { available: boolean; library: string; error: string | null };
  };
  /** "openblas", "openblas-static", "accelerate" or "builtin" (the fallback blocked sgemm). */
  blas: string;
  /** Threads of the engine's pool (env DILEMMA_THREADS, default: cores). */
  threads: number;
  /**
   * Threads of one BLAS call: 1 (the pool parallelises around BLAS), which 2-D matMul's batch
   * invariance relies on (csrc/engine/sgemm.h).
   */
  blasThreads: number;
  /** True when the DILEMMA kernels (csrc/dilemma) are compiled in. */
  dilemmaKernels: boolean;
}

/** True when the native addon is built and loads. */
export function isAvailable(): boolean {
  return addon() !== null;
}

/** Why the addon is unavailable (null when it loaded). */
export function loadError(): string | null {
  return addonLoadError();
}

/**
 * The one shell command that builds the addon on this machine (installing cmake / a compiler
 * first when they are missing), or null when the addon loaded or DILEMMA_NATIVE=off.
 */
export function buildCommand(): string | null {
  return addonBuildCommand();
}

/**
 * Build and runtime information of the addon.
 * @throws Error naming the load problem when the addon is unavailable.
 */
export function info(): NativeInfo {
  const a = addon();
  if (a === null) throw new Error(`@dilemma/native is unavailable: ${addonLoadError()}`);
  return a.info();
}

export { addon } from "./addon.js";
export { NATIVE_BACKEND, NativeBackend, registerNativeBackend, useNativeBackend, nativeKernelImpls } from "./backend.js";
export { benchTrainStep, benchMethodConfig, BENCH_PRESETS, type BenchPrecision, type BenchTrainStepOptions, type BenchTrainStepResult } from "./bench.js";
export * from "./dilemma/index.js";
/** The addon's op and type codes (src/cuda/addon.ts), for scripts that call `addon().gpu` directly. */
export { ACT, BINARY, DTYPE, PRECISION, REDUCE, UNARY, WHERE } from "./cuda/addon.js";
export {
  CUDA_BACKEND, CudaBackend, HOST_CACHE_MAX, registerCudaBackend, useCudaBackend, cudaAvailable, cudaUnavailableReason,
  setMatmulPrecision, cudaFallbackCounts, resetCudaFallbackCounts, cudaKernelConfigs,
  type CudaBackendOptions, type CudaBackendRegistration, type CudaDevice, type MatmulPrecision,
} from "./cuda/index.js";
