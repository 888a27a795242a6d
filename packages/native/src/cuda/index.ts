/**
 * The `cuda` backend's registration (docs/cuda-engine.md). Importing this module never touches
 * the GPU: registerCudaBackend() checks the addon and the device and says why not.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@dilemma/core"; // core's custom cpu kernels and gradients exist before fallbacks are listed
import "@tensorflow/tfjs-backend-cpu";
import { addon, addonLoadError } from "../addon.js";
import { PRECISION, type GpuAddon } from "./addon.js";
import { CudaBackend, type CudaDevice } from "./backend.js";
import { registerCudaFallbacks } from "./fallback.js";
import { cudaKernelConfigs } from "./kernels/index.js";
import { CUDA_BACKEND } from "./kernels/util.js";

export { CUDA_BACKEND } from "./kernels/util.js";
export { CudaBackend, HOST_CACHE_MAX, type CudaBackendOptions, type CudaDevice } from "./backend.js";
export { cudaFallbackCounts, resetCudaFallbackCounts } from "./fallback.js";
export { cudaKernelConfigs } from "./kernels/index.js";

export type MatmulPrecision = keyof typeof PRECISION;

export interface CudaBackendRegistration {
  /** "cuda" (default; env DILEMMA_CUDA_DEVICE=host overrides) or "host" (CPU reference kernels). */
  device?: CudaDevice;
  deviceIndex?: number;
  precision?: MatmulPrecision;
}

let reason: string | null = null;
/** Fused kernels -> the addon entry each needs (the others use entries every gpu build has). */
const ADDON_ENTRY: Record<string, keyof GpuAddon> = {
  AdamWUpdate: "adamWMulti", EmaUpdate: "emaMulti", GeluErf: "geluErf", GeluErfGrad: "geluErfGrad", LayerNorm: "layerNorm",
  LayerNormGrad: "layerNormGrad", DilemmaEmbed: "dilemmaEmbed", DilemmaEmbedGrad: "dilemmaEmbedGrad",
  FusedAttention: "attention", FusedAttentionGrad: "attentionGrad", FusedMlp: "mlp", FusedMlpGrad: "mlpGrad",
};
let absentKernels = new Set<string>();
let registeredAs: { device: CudaDevice; deviceIndex: number } | null = null;

function gpuAddon(): GpuAddon | null {
  const a = addon();
  if (a === null) {
    reason = `the native addon is unavailable: ${addonLoadError()}`;
    return null;
  }
  if (a.gpu == null || typeof a.gpu.alloc !== "function") {
    reason = "the native addon was built without the cuda engine's runtime (addon().gpu)";
    return null;
  }
  return a.gpu;
}

/** Why the cuda backend is unavailable (set by cudaAvailable / registerCudaBackend). */
export function cudaUnavailableReason(): string | null {
  return reason;
}

/** True when the addon has CUDA kernels, sees a device and found cuBLAS. */
export function cudaAvailable(): boolean {
  const a = addon();
  const gpu = gpuAddon();
  if (a === null || gpu === null) return false;
  const info = a.info().cuda;
  if (!info.compiled) reason = "the addon was built without CUDA (DILEMMA_CUDA=off or no nvcc)";
  else if (info.devices <= 0) reason = "no CUDA device is visible";
  else if (!info.cublas.available) reason = `cuBLAS could not be loaded: ${info.cublas.error ?? "unknown reason"}`;
  else return true;
  return false;
}

function requestedDevice(opts?: CudaBackendRegistration): CudaDevice {
  const env = (process.env.DILEMMA_CUDA_DEVICE ?? "").toLowerCase();
  if (env === "host" || env === "cuda") return env;
  return opts?.device ?? "cuda";
}

/** Sets the matrix-product precision of the CUDA device (host is always fp32). */
export function setMatmulPrecision(p: MatmulPrecision): void {
  const gpu = gpuAddon();
  if (gpu === null) throw new Error(`cuda backend unavailable: ${reason}`);
  const code = PRECISION[p];
  if (code === undefined) throw new Error(`unknown matmul precision "${p}" (fp32, tf32 or bf16)`);
  gpu.setMatmulPrecision(code);
}

/**
 * Registers backend "cuda" (priority 0: never picked unless asked for) with its kernels and the
 * cpu fallbacks. Returns false (see cudaUnavailableReason()) when the addon has no gpu runtime,
 * or, for device "cuda", no usable device. Registering again with another device re-registers.
 */
export function registerCudaBackend(opts?: CudaBackendRegistration): boolean {
  const device = requestedDevice(opts);
  const deviceIndex = opts?.deviceIndex ?? 0;
  const gpu = gpuAddon();
  if (gpu === null) return false;
  if (device === "cuda" && !cudaAvailable()) return false;
  reason = null;
  if (registeredAs === null || registeredAs.device !== device || registeredAs.deviceIndex !== deviceIndex) {
    if (tf.findBackendFactory(CUDA_BACKEND) != null) {
      if (tf.getBackend() === CUDA_BACKEND) throw new Error("registerCudaBackend: cannot change the device of the active cuda backend");
      tf.removeBackend(CUDA_BACKEND);
    }
    tf.registerBackend(CUDA_BACKEND, () => {
      // Kernels registered for cpu since (lazily imported modules) get fallbacks too.
      registerCudaFallbacks(CUDA_BACKEND, absentKernels);
      return new CudaBackend(gpu, { device, deviceIndex });
    }, 0);
    registeredAs = { device, deviceIndex };
  }
  // A fused kernel whose addon entry is missing (an addon built from sources without it) is left out
  // entirely, fallback included, so core's op runs its composite of tfjs ops instead.
  const absent = new Set(Object.entries(ADDON_ENTRY).filter(([, fn]) => typeof gpu[fn] !== "function").map(([k]) => k));
  for (const k of cudaKernelConfigs) {
    // A fallback registered earlier (or core's kernels copied) must not shadow ours.
    if (tf.getKernel(k.kernelName, CUDA_BACKEND) != null) tf.unregisterKernel(k.kernelName, CUDA_BACKEND);
    if (!absent.has(k.kernelName)) tf.registerKernel(k);
  }
  registerCudaFallbacks(CUDA_BACKEND, absent);
  absentKernels = absent;
  if (opts?.precision !== undefined) setMatmulPrecision(opts.precision);
  return true;
}

/**
 * Registers the backend and makes it the active tfjs backend.
 * @throws Error saying why the cuda backend is unavailable.
 */
export async function useCudaBackend(opts?: CudaBackendRegistration): Promise<void> {
  if (!registerCudaBackend(opts)) throw new Error(`the cuda backend is unavailable: ${reason}`);
  const ok = await tf.setBackend(CUDA_BACKEND);
  if (!ok) throw new Error(`tf.setBackend("${CUDA_BACKEND}") failed`);
}
