// FusedAttention(Grad) and FusedMlp(Grad), core's fused ViT-block ops (docs/ops.md,
// docs/cuda-engine.md): one addon call each.
import type * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

/** Buffers of `names` in `inputs`, or null when one is not float32 (the cpu fallback runs). */
function f32Buffers(args: CudaKernelArgs, names: string[]): number[] | null {
  const ids: number[] = [];
  for (const n of names) {
    const t = args.inputs[n];
    if (t === undefined || t.dtype !== "float32") return null;
    ids.push(args.backend.bufferOf(t));
  }
  return ids;
}

/**
 * With attr `inference` (no gradient will be taken) a fused forward returns its output only: the
 * saved activations are freed at once (their buffers go back to the backend's spares, stream-ordered).
 */
function inferenceOnly(args: CudaKernelArgs, outs: tf.TensorInfo[]): tf.TensorInfo[] {
  if (args.attrs?.inference !== true) return outs;
  for (const t of outs.slice(1)) args.backend.disposeData(t.dataId);
  return [outs[0]];
}

const fusedAttention = cudaKernel("FusedAttention", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const ids = f32Buffers(args, ["x", "qkvW", "qkvB", "projW", "projB"]);
  const [B, N, D] = inputs.x.shape;
  if (ids === null || B * N * D === 0) return runCpuFallback("FusedAttention", args);
  const H = attrs?.numHeads as number;
  const outs = [backend.makeOutput([B, N, D], "float32"), backend.makeOutput([B, N, 3 * D], "float32"),
    backend.makeOutput([B, H, N, N], "float32"), backend.makeOutput([B, N, D], "float32")];
  const o = outs.map((t) => backend.bufferOf(t));
  backend.gpu.attention(ids[0], ids[1], ids[2], ids[3], ids[4], o[0], o[1], o[2], o[3], B, N, D, H);
  return inferenceOnly(args, outs);
});

const fusedAttentionGrad = cudaKernel("FusedAttentionGrad", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const ids = f32Buffers(args, ["dy", "x", "qkvW", "projW", "qkv", "probs", "ctx"]);
  const [B, N, D] = inputs.x.shape;
  if (ids === null || B * N * D === 0) return runCpuFallback("FusedAttentionGrad", args);
  const H = attrs?.numHeads as number;
  const outs = [backend.makeOutput([B, N, D], "float32"), backend.makeOutput([3 * D, D], "float32"), backend.makeOutput([3 * D], "float32"),
    backend.makeOutput([D, D], "float32"), backend.makeOutput([D], "float32")];
  const o = outs.map((t) => backend.bufferOf(t));
  backend.gpu.attentionGrad(ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], o[0], o[1], o[2], o[3], o[4], B, N, D, H);
  return outs;
});

const fusedMlp = cudaKernel("FusedMlp", (args: CudaKernelArgs) => {
  const { inputs, backend } = args;
  const ids = f32Buffers(args, ["x", "fc1W", "fc1B", "fc2W", "fc2B"]);
  const shape = inputs.x.shape;
  const D = shape[shape.length - 1], Hd = inputs.fc1W.shape[0];
  const rows = size(shape) / D;
  if (ids === null || rows === 0) return runCpuFallback("FusedMlp", args);
  const hShape = [...shape.slice(0, -1), Hd];
  const outs = [backend.makeOutput(shape, "float32"), backend.makeOutput(hShape, "float32"), backend.makeOutput(hShape, "float32")];
  const o = outs.map((t) => backend.bufferOf(t));
  backend.gpu.mlp(ids[0], ids[1], ids[2], ids[3], ids[4], o[0], o[1], o[2], rows, D, Hd);
  return inferenceOnly(args, outs);
});

const fusedMlpGrad = cudaKernel("FusedMlpGrad", (args: CudaKernelArgs) => {
  const { inputs, backend } = args;
  const ids = f32Buffers(args, ["dy", "x", "fc1W", "fc2W", "pre", "act"]);
  const shape = inputs.x.shape;
  const D = shape[shape.length - 1], Hd = inputs.fc1W.shape[0];
  const rows = size(shape) / D;
  if (ids === null || rows === 0) return runCpuFallback("FusedMlpGrad", args);
  const outs = [backend.makeOutput(shape, "float32"), backend.makeOutput([Hd, D], "float32"), backend.makeOutput([Hd], "float32"),
    backend.makeOutput([D, Hd], "float32"), backend.makeOutput([D], "float32")];
  const o = outs.map((t) => backend.bufferOf(t));
  backend.gpu.mlpGrad(ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], o[0], o[1], o[2], o[3], o[4], rows, D, Hd);
  return outs;
});

export const fusedKernelConfigs: tf.KernelConfig[] = [fusedAttention, fusedAttentionGrad, fusedMlp, fusedMlpGrad];
