// Shared helpers for the custom ops: kernel-or-composite dispatch and CPU typed-array access.
import * as tf from "@tensorflow/tfjs-core";

/** True when the active backend has a kernel registered under `kernelName`. */
export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) != null;
}

/** Registers a CPU kernel once (module reloads in test runners must not re-register). */
export function registerCpuKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(kernelName, "cpu") == null) tf.registerKernel({ kernelName, backendName: "cpu", kernelFunc });
}

/** Registers a gradient once. */
export function registerGradientOnce(config: tf.GradConfig): void {
  if (tf.getGradient(config.kernelName) == null) tf.registerGradient(config);
}

/** The typed array behind a tensor on the CPU backend (read-only by convention). */
export function cpuValues<T extends Float32Array | Int32Array>(backend: unknown, t: tf.TensorInfo): T {
  return (backend as any).data.get(t.dataId).values as T;
}

/** Wraps a typed array as a new backend tensor. */
export function cpuOutput(backend: unknown, shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo {
  return (backend as any).makeTensorInfo(shape, dtype, values) as tf.TensorInfo;
}

/** Throws a named error when any index is outside [0, n). */
export function checkIndices(op: string, name: string, idx: ArrayLike<number>, cols: number, n: number): void {
  for (let j = 0; j < idx.length; j++) {
    const v = idx[j];
    if (!(v >= 0 && v < n)) {
      throw new Error(`${op}: ${name}[${Math.floor(j / cols)},${j % cols}]=${v} out of [0, ${n})`);
    }
  }
}

/** LayerNorm row statistics of x[o, o + D): mean and 1/sqrt(biased variance + eps), shared by forward and backward. */
export function rowStats(x: Float32Array, o: number, D: number, eps: number): { mean: number; rstd: number } {
  let mean = 0;
  for (let d = 0; d < D; d++) mean += x[o + d];
  mean /= D;
  let v = 0;
  for (let d = 0; d < D; d++) {
    const c = x[o + d] - mean;
    v += c * c;
  }
  return { mean, rstd: 1 / Math.sqrt(v / D + eps) };
}

/** Per-column mean and 1/sqrt(biased variance + eps) of x [B, C], in double (BatchNorm1d forward and gradient). */
export function columnStats(x: Float32Array, B: number, C: number, eps: number): { mean: Float64Array; variance: Float64Array; rstd: Float64Array } {
  const mean = new Float64Array(C), variance = new Float64Array(C), rstd = new Float64Array(C);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) mean[c] += x[b * C + c];
  for (let c = 0; c < C; c++) mean[c] /= B;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const d = x[b * C + c] - mean[c];
      variance[c] += d * d;
    }
  }
  for (let c = 0; c < C; c++) {
    variance[c] /= B;
    rstd[c] = 1 / Math.sqrt(variance[c] + eps);
  }
  return { mean, variance, rstd };
}
