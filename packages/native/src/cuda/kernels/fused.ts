// The custom ops of @dilemma/core (docs/ops.md, docs/cuda-engine.md): GeluErf(Grad),
// LayerNorm(Grad), DilemmaEmbed(Grad) and AdamWUpdate, each one addon call.
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

export const fusedKernelConfigs: tf.KernelConfig[] = [
  geluErf, geluErfGrad, layerNorm, layerNormGrad, dilemmaEmbed, dilemmaEmbedGrad, adamWUpdate, emaUpdate,
];
