/**
 * Kernels the cuda backend does not implement run the tfjs cpu kernel: inputs are downloaded
 * into a private MathBackendCPU, the cpu kernel runs there, its outputs are uploaded and the cpu
 * copies dropped. Counted per kernel (a training step must use none); env DILEMMA_CUDA_STRICT=1
 * turns a fallback into an error naming the kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { CudaKernelArgs } from "./kernels/util.js";

const counts = new Map<string, number>();
let cpu: MathBackendCPU | null = null;

/** Calls of the cpu fallback per kernel name since start (or the last reset). */
export function cudaFallbackCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}

export function resetCudaFallbackCounts(): void {
  counts.clear();
}

function strict(): boolean {
  const v = (process.env.DILEMMA_CUDA_STRICT ?? "").toLowerCase();
  return v === "1" || v === "true";
}

function cpuBackend(): MathBackendCPU {
  if (cpu === null) {
    cpu = new MathBackendCPU();
    // Skip its one-time "install tfjs-node" banner: this backend is internal.
    (cpu as unknown as { firstUse: boolean }).firstUse = false;
  }
  return cpu;
}

/** Runs kernel `kernelName`'s cpu implementation on the cuda tensors of `args`. */
export function runCpuFallback(kernelName: string, args: CudaKernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  if (strict()) {
    throw new Error(`cuda backend: kernel ${kernelName} would run on the cpu fallback (DILEMMA_CUDA_STRICT=1)`);
  }
  const config = tf.getKernel(kernelName, "cpu");
  if (config === undefined) throw new Error(`cuda backend: kernel ${kernelName} is not implemented (no cpu kernel to fall back to)`);
  counts.set(kernelName, (counts.get(kernelName) ?? 0) + 1);
  const backend = args.backend;
  const host = cpuBackend();
  const made: tf.DataId[] = [];
  const inputs: tf.NamedTensorInfoMap = {};
  for (const [name, t] of Object.entries(args.inputs)) {
    if (t == null) continue;
    const dataId = host.write(backend.readSync(t.dataId), t.shape, t.dtype);
    made.push(dataId);
    inputs[name] = { dataId, shape: t.shape, dtype: t.dtype };
  }
  try {
    const res = config.kernelFunc({ inputs, backend: host, attrs: args.attrs ?? {} });
    const outs = Array.isArray(res) ? res : [res];
    const uploaded = outs.map((o) => {
      made.push(o.dataId);
      const dataId = backend.write(host.readSync(o.dataId), o.shape, o.dtype);
      return { dataId, shape: o.shape, dtype: o.dtype };
    });
    return Array.isArray(res) ? uploaded : uploaded[0];
  } finally {
    for (const id of new Set(made)) host.disposeData(id, true);
  }
}

/**
 * Registers, for every kernel registered for "cpu" and not for `backendName`, one that runs the
 * cpu kernel through runCpuFallback (except those in `except`). Safe to call again (kernels registered since are added).
 */
export function registerCudaFallbacks(backendName: string, except: ReadonlySet<string> = new Set()): void {
  for (const k of tf.getKernelsForBackend("cpu")) {
    if (except.has(k.kernelName) || tf.getKernel(k.kernelName, backendName) != null) continue;
    const kernelName = k.kernelName;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ((args: CudaKernelArgs) => runCpuFallback(kernelName, args)) as unknown as tf.KernelFunc,
    });
  }
}

