/**
 * The "native" tfjs backend: tfjs-backend-cpu's MathBackendCPU (same tensor storage, so every
 * cpu kernel works unchanged) with the hot kernels replaced by the addon's BLAS / multithreaded
 * C++ kernels. Kernels the addon does not cover, or dtypes/layouts it does not handle, run the
 * cpu kernel.
 */
// tfjs-core must load before @dilemma/core: core's bundled gradients carry their own copy of
// tfjs-core, and whichever copy loads first creates the global engine (its Tensor class must be
// the real one, with ops attached).
import * as tf from "@tensorflow/tfjs-core";
import "@dilemma/core"; // registers core's custom cpu kernels and all gradients before we copy them
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { addon, addonLoadError, type Addon } from "./addon.js";
import { nativeKernels } from "./kernels/index.js";
import { nativeKernel, type NativeKernel } from "./kernels/util.js";
import { escapeValues, releaseValues, retainValues } from "./kernels/pool.js";
import { DILEMMA_EMBED, DILEMMA_EMBED_GRAD, hasDilemmaKernels, registerDilemmaKernels } from "./dilemma/index.js";

/** Name the backend is registered under. */
export const NATIVE_BACKEND = "native";

/**
 * MathBackendCPU whose hot kernels run in the addon. Its storage also counts the references to
 * pooled output arrays, so that an array no tensor refers to any more is reused (kernels/pool.ts).
 */
export class NativeBackend extends MathBackendCPU {
  override write(values: tf.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    retainValues(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: tf.DataId, values: tf.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    retainValues(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: tf.DataId): tf.BackendValues {
    escapeValues(this.data.get(dataId)?.values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    // has() first: get() of an unknown id would try to move it in from another backend.
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const done = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) releaseValues(values);
    return done;
  }
}

/** The kernels this package replaces, by tfjs kernel name (kernels/index.ts). */
export function nativeKernelImpls(): Record<string, NativeKernel> {
  return { ...nativeKernels };
}

function registerKernelsFor(backendName: string, a: Addon, disabled: Set<string>): void {
  tf.copyRegisteredKernels("cpu", backendName);
  for (const [name, impl] of Object.entries(nativeKernelImpls())) {
    if (disabled.has(name)) continue;
    if (tf.getKernel(name, backendName) != null) tf.unregisterKernel(name, backendName);
    tf.registerKernel(nativeKernel(name, backendName, impl, a));
  }
  if (hasDilemmaKernels()) {
    // The copied cpu versions would shadow the native DILEMMA kernels (registration is idempotent).
    for (const name of [DILEMMA_EMBED, DILEMMA_EMBED_GRAD]) {
      if (tf.getKernel(name, backendName) != null) tf.unregisterKernel(name, backendName);
    }
    registerDilemmaKernels(backendName);
  }
}

let registered = false;

/**
 * Registers the "native" backend (priority 3, above cpu's 1) and its kernels. Idempotent.
 * Env DILEMMA_NATIVE_DISABLE=Name,Name keeps those kernels on the cpu implementation (for
 * profiling and bisecting).
 * @returns false (and registers nothing) when the addon is unavailable; see `loadError()`.
 */
export function registerNativeBackend(): boolean {
  if (registered) return true;
  const a = addon();
  if (a === null) return false;
  if (tf.findBackendFactory(NATIVE_BACKEND) == null) {
    tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 3);
  }
  const disabled = new Set((process.env.DILEMMA_NATIVE_DISABLE ?? "").split(",").map((s) => s.trim()).filter(Boolean));
  registerKernelsFor(NATIVE_BACKEND, a, disabled);
  registered = true;
  return true;
}

/**
 * Registers the backend and makes it the active tfjs backend.
 * @throws Error naming why the addon is unavailable and how to build it.
 */
export async function useNativeBackend(): Promise<void> {
  if (!registerNativeBackend()) {
    throw new Error(`the native engine is unavailable: ${addonLoadError()}`);
  }
  const ok = await tf.setBackend(NATIVE_BACKEND);
  if (!ok) throw new Error(`tf.setBackend("${NATIVE_BACKEND}") failed`);
}
