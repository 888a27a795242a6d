// The custom ops of @dilemma/core (docs/ops.md, docs/cuda-engine.md): GeluErf(Grad),
// LayerNorm(Grad), DilemmaEmbed(Grad), FusedAttention(Grad), FusedMlp(Grad), AdamWUpdate and
// EmaUpdate, each one addon call.
import type * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { cudaKernel, size, type CudaKernelArgs } from "./util.js";

const geluErf = cudaKernel("GeluErf", (args: CudaKernelArgs) => {
  const { inputs, backend } = args;
  const x = inputs.x;
  if (x.dtype !== "float32") return runCpuFallback("GeluErf", args);
  const out = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) backend.gpu.geluErf(backend.bufferOf(x), backend.bufferOf(out), n);
  return out;
});

const geluErfGrad = cudaKernel("GeluErfGrad", (args: CudaKernelArgs) => {
  const { inputs, backend } = args;
  const { dy, x } = inputs;
  const n = size(x.shape);
  if (x.dtype !== "float32" || dy.dtype !== "float32" || size(dy.shape) !== n) return runCpuFallback("GeluErfGrad", args);
  const out = backend.makeOutput(x.shape, "float32");
  if (n > 0) backend.gpu.geluErfGrad(backend.bufferOf(dy), backend.bufferOf(x), backend.bufferOf(out), n);
  return out;
});

const layerNorm = cudaKernel("LayerNorm", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { x, gamma, beta } = inputs;
  const d = size(gamma.shape);
  if (d === 0 || size(x.shape) === 0) return runCpuFallback("LayerNorm", args);
  const out = backend.makeOutput(x.shape, "float32");
  backend.gpu.layerNorm(backend.bufferOf(x), backend.bufferOf(gamma), backend.bufferOf(beta), backend.bufferOf(out),
    size(x.shape) / d, d, attrs?.eps as number);
  return out;
});

const layerNormGrad = cudaKernel("LayerNormGrad", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { dy, x, gamma } = inputs;
  const d = size(gamma.shape);
  if (d === 0 || size(x.shape) === 0) return runCpuFallback("LayerNormGrad", args);
  const dx = backend.makeOutput(x.shape, "float32");
  const dGamma = backend.makeOutput([d], "float32");
  const dBeta = backend.makeOutput([d], "float32");
  backend.gpu.layerNormGrad(backend.bufferOf(dy), backend.bufferOf(x), backend.bufferOf(gamma), backend.bufferOf(dx),
    backend.bufferOf(dGamma), backend.bufferOf(dBeta), size(x.shape) / d, d, attrs?.eps as number);
  return [dx, dGamma, dBeta];
});

const dilemmaEmbed = cudaKernel("DilemmaEmbed", (args: CudaKernelArgs) => {
  const { inputs, backend } = args;
  const { tokens, posEmbed, realPos, inputPos } = inputs;
  const [B, L, D] = tokens.shape;
  const K = realPos.shape[1];
  const out = backend.makeOutput([B, K, D], "float32");
  if (B * K * D > 0) {
    backend.gpu.dilemmaEmbed(backend.bufferOf(tokens), backend.bufferOf(posEmbed), backend.bufferOf(realPos),
      backend.bufferOf(inputPos), B, L, K, D, backend.bufferOf(out));
  }
  return out;
});

const dilemmaEmbedGrad = cudaKernel("DilemmaEmbedGrad", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { dy, realPos, inputPos } = inputs;
  const [B, K, D] = dy.shape;
  const L = attrs?.numPatches as number;
  const dTokens = backend.makeOutput([B, L, D], "float32");
  const dPos = backend.makeOutput([L, D], "float32");
  if (L * D > 0) {
    backend.gpu.dilemmaEmbedGrad(backend.bufferOf(dy), backend.bufferOf(realPos), backend.bufferOf(inputPos), B, L, K, D,
      backend.bufferOf(dTokens), backend.bufferOf(dPos));
  }
  return [dTokens, dPos];
});

const adamWUpdate = cudaKernel("AdamWUpdate", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { param, grad, m, v } = inputs;
  const a = attrs as Record<string, number>;
  const n = size(param.shape);
  const outs = [backend.makeOutput(param.shape, "float32"), backend.makeOutput(param.shape, "float32"), backend.makeOutput(param.shape, "float32")];
  if (n > 0) {
    backend.gpu.adamW(backend.bufferOf(param), backend.bufferOf(grad), backend.bufferOf(m), backend.bufferOf(v),
      backend.bufferOf(outs[0]), backend.bufferOf(outs[1]), backend.bufferOf(outs[2]), n,
      a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.stepSize, a.sqrtBc2);
  }
  return outs;
});

const emaUpdate = cudaKernel("EmaUpdate", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { target, source } = inputs;
  const n = size(target.shape);
  const out = backend.makeOutput(target.shape, "float32");
  if (n > 0) backend.gpu.ema(backend.bufferOf(target), backend.bufferOf(source), backend.bufferOf(out), n, (attrs as { momentum: number }).momentum);
  return out;
});

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

export const fusedKernelConfigs: tf.KernelConfig[] = [
  geluErf, geluErfGrad, layerNorm, layerNormGrad, dilemmaEmbed, dilemmaEmbedGrad, adamWUpdate, emaUpdate,
  fusedAttention, fusedAttentionGrad, fusedMlp, fusedMlpGrad,
];
