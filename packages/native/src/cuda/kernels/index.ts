// Every kernel the cuda backend implements (the rest run the cpu fallback, ../fallback.ts).
import type * as tf from "@tensorflow/tfjs-core";
import { batchNormKernelConfigs } from "./batch_norm.js";
import { binaryKernelConfigs } from "./binary.js";
import { copyKernelConfigs } from "./copy.js";
import { dilemmaKernelConfigs } from "./dilemma.js";
import { fusedKernelConfigs } from "./fused.js";
import { gatherKernelConfigs } from "./gather.js";
import { geluErfKernelConfigs } from "./gelu_erf.js";
import { layerNormKernelConfigs } from "./layer_norm.js";
import { matMulKernelConfigs } from "./matmul.js";
import { optimKernelConfigs } from "./optim.js";
import { reduceKernelConfigs } from "./reduce.js";
import { softmaxKernelConfigs } from "./softmax.js";
import { transposeKernelConfigs } from "./transpose.js";
import { unaryKernelConfigs } from "./unary.js";

export const cudaKernelConfigs: tf.KernelConfig[] = [
  ...unaryKernelConfigs,
  ...binaryKernelConfigs,
  ...reduceKernelConfigs,
  ...transposeKernelConfigs,
  ...softmaxKernelConfigs,
  ...matMulKernelConfigs,
  ...copyKernelConfigs,
  ...gatherKernelConfigs,
  ...geluErfKernelConfigs,
  ...layerNormKernelConfigs,
  ...batchNormKernelConfigs,
  ...dilemmaKernelConfigs,
  ...optimKernelConfigs,
  ...fusedKernelConfigs,
];
