/**
 * Engine selection for the cli: registers and activates a tfjs backend.
 *   auto       -> "cuda" when @dilemma/native sees a GPU (cudaAvailable()), else its "native"
 *                 backend when the addon loads, else tfjs "cpu"; the reason is printed
 *   cuda       -> @dilemma/native's "cuda" backend (GPU), or an error naming why not and what to do
 *   native     -> "native", or an error naming why the addon is unavailable
 *   cpu        -> tfjs-backend-cpu (pure JS)
 *   tensorflow -> @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node when installed (never a
 *                 dependency of this project; an error says how to install it otherwise)
 * `precision` (fp32 | tf32 | bf16) is the cuda engine's matrix-product precision; the other
 * engines compute in fp32 only.
 */
import * as tf from "@tensorflow/tfjs-core";
import { DEFAULT_PRECISION, ENGINES, PRECISIONS, type EngineName, type Precision } from "./defaults.js";

/** The engine that runs and why it was chosen. */
export interface EngineChoice {
  name: string;
  reason: string;
  /** Matrix-product precision (fp32 except on cuda). */
  precision: Precision;
}

/** The part of @dilemma/native this module uses (the cuda functions may be absent in older builds). */
export interface NativeModule {
  isAvailable(): boolean;
  loadError(): string | null;
  /** The shell command that builds the addon on this machine (absent in older builds). */
  buildCommand?(): string | null;
  useNativeBackend(): Promise<void>;
  info(): { blas: string; threads: number; cuda: { compiled: boolean; devices: number } };
  cudaAvailable?(): boolean;
  cudaUnavailableReason?(): string | null;
  useCudaBackend?(opts?: { device?: "cuda" | "host"; precision?: Precision }): Promise<void>;
  addon?(): { gpu?: { runtimeInfo?(): { device: { name: string } | null } } } | null;
}

export interface SelectEngineOptions {
  /** cuda: matrix-product precision (default fp32). Other explicit engines accept fp32 only. */
  precision?: Precision;
  /** Loads @dilemma/native (tests pass a fake): the module, or why it is unavailable. */
  loadNative?: () => Promise<NativeModule | string>;
  /** Print nothing (the library's `quiet`); the choice is still returned. */
  quiet?: boolean;
}

let announced = false;

function announceOnce(choice: EngineChoice, quiet = false): EngineChoice {
  if (!announced && !quiet) {
    announced = true;
    console.error(`engine: ${choice.name} (${choice.reason})`);
  }
  return choice;
}

export async function loadNative(): Promise<NativeModule | string> {
  try {
    // A computed specifier: @dilemma/native is an optional dependency.
    const spec = "@dilemma/native";
    const m = (await import(spec)) as NativeModule;
    if (m.isAvailable()) return m;
    const fix = m.buildCommand?.();
    return `${m.loadError() ?? "the addon did not load"}${fix ? `; to build it, run: ${fix}` : ""}`;
  } catch (e) {
    return `@dilemma/native is not installed or failed to load (${(e as Error).message}); to install it, run: npm install @dilemma/native`;
  }
}

async function useCpu(reason: string): Promise<EngineChoice> {
  await import("@tensorflow/tfjs-backend-cpu");
  if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend(\"cpu\") failed");
  tf.enableProdMode(); // skips tfjs debug checks and its "install tfjs-node" banner
  return { name: "cpu", reason, precision: "fp32" };
}

async function useTensorflow(): Promise<EngineChoice> {
  const errors: string[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(pkg);
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    if (!(await tf.setBackend("tensorflow"))) throw new Error(`${pkg} loaded but tf.setBackend("tensorflow") failed`);
    tf.enableProdMode();
    return { name: "tensorflow", reason: `${pkg} (TensorFlow C library)`, precision: "fp32" };
  }
  throw new Error("--engine tensorflow needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, which this project does " +
    "not install: `npm install @tensorflow/tfjs-node@4.22.0` (same version as tfjs-core), or use --engine auto, native or cpu. " +
    `(${errors.join("; ")})`);
}

/** Why the cuda engine cannot run on this machine, or null when it can. */
function cudaBlocker(native: NativeModule | string): string | null {
  if (typeof native === "string") return native;
  if (typeof native.cudaAvailable !== "function" || typeof native.useCudaBackend !== "function") {
    return "this @dilemma/native has no cuda engine (rebuild it from this checkout: npm run build -w @dilemma/native)";
  }
  return native.cudaAvailable() ? null : native.cudaUnavailableReason?.() ?? "no usable CUDA device";
}

const CUDA_HELP = "use --engine native (CPU) or auto, or make the GPU usable: an addon built with CUDA " +
  "(DILEMMA_CUDA=on npm run build:addon -w @dilemma/native; needs nvcc), an NVIDIA driver with a visible device, " +
  "and cuBLAS of CUDA 12/13 (libcublas.so on the library path, or DILEMMA_CUBLAS=/path/to/libcublas.so.13)";

async function useCuda(native: NativeModule, precision: Precision, why: string): Promise<EngineChoice> {
  await native.useCudaBackend!({ device: "cuda", precision });
  tf.enableProdMode();
  let gpu = "";
  try {
    gpu = native.addon?.()?.gpu?.runtimeInfo?.()?.device?.name ?? "";
  } catch { /* the name is decoration */ }
  return { name: "cuda", reason: `${why}${gpu ? `; ${gpu}` : ""}; matmul ${precision}`, precision };
}

/**
 * Registers and activates the requested engine, printing once (to stderr) which engine runs
 * and why.
 * @throws Error when "cuda", "native" or "tensorflow" is requested and unavailable (says why and
 *   what to do), or a precision other than fp32 is requested for an engine other than cuda / auto.
 */
export async function selectEngine(name: EngineName, opts: SelectEngineOptions = {}): Promise<EngineChoice> {
  const precision = opts.precision ?? DEFAULT_PRECISION;
  if (!(PRECISIONS as readonly string[]).includes(precision)) throw new Error(`unknown precision "${precision as string}" (${PRECISIONS.join(", ")})`);
  if (precision !== "fp32" && name !== "cuda" && name !== "auto") {
    throw new Error(`--precision ${precision} needs --engine cuda (or auto on a machine with a GPU); --engine ${name} computes in fp32`);
  }
  const load = opts.loadNative ?? loadNative;
  const announce = (c: EngineChoice): EngineChoice => announceOnce(c, opts.quiet);
  switch (name) {
    case "cpu":
      return announce(await useCpu("requested"));
    case "tensorflow":
      return announce(await useTensorflow());
    case "cuda": {
      const native = await load();
      const blocker = cudaBlocker(native);
      if (blocker !== null) throw new Error(`--engine cuda: ${blocker}; ${CUDA_HELP}`);
      return announce(await useCuda(native as NativeModule, precision, "requested"));
    }
    case "native":
    case "auto": {
      const native = await load();
      if (typeof native === "string") {
        if (name === "native") {
          throw new Error(`--engine native: ${native}; or use --engine cpu`);
        }
        const ignored = precision !== "fp32" ? `; --precision ${precision} ignored (fp32 on the CPU)` : "";
        return announce(await useCpu(`pure JavaScript, many times slower${ignored}; native engine unavailable: ${native}`));
      }
      let noGpu = "";
      if (name === "auto") {
        const blocker = cudaBlocker(native);
        if (blocker === null) {
          try {
            return announce(await useCuda(native, precision, "auto: CUDA device found"));
          } catch (e) {
            // a device that is visible but cannot be opened: auto still trains, on the CPU
            noGpu = `the CUDA device could not be used (${(e as Error).message}); `;
          }
        } else {
          noGpu = `no GPU engine (${blocker}); `;
        }
      }
      await native.useNativeBackend();
      tf.enableProdMode();
      const i = native.info();
      const ignored = precision !== "fp32" ? `; --precision ${precision} ignored (fp32 on the CPU)` : "";
      return announce({ name: "native", reason: `${name === "auto" ? `${noGpu}addon loaded` : "requested"}; BLAS ${i.blas}, ${i.threads} threads${ignored}`, precision: "fp32" });
    }
    default:
      throw new Error(`unknown engine "${name as string}" (${ENGINES.join(", ")})`);
  }
}

/** Forgets that an engine was announced (tests). */
export function resetEngineAnnouncement(): void {
  announced = false;
}
