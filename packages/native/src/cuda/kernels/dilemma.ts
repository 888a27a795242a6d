// DilemmaEmbed and DilemmaEmbedGrad (docs/ops.md): one addon call each. A CUDA kernel skips an
// out-of-range index and flags it; the backend raises it at the next read (gpu.dilemmaCheck).
import type * as tf from "@tensorflow/tfjs-core";
import { cudaKernel, type CudaKernelArgs } from "./util.js";

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

export const dilemmaKernelConfigs: tf.KernelConfig[] = [dilemmaEmbed, dilemmaEmbedGrad];
