// Every kernel the cuda backend implements (the rest run the cpu fallback, ../fallback.ts).
import type * as tf from "@tensorflow/tfjs-core";
import { binaryKernelConfigs } from "./binary.js";
import { copyKernelConfigs } from "./copy.js";
import { fusedKernelConfigs } from "./fused.js";
import { gatherKernelConfigs } from "./gather.js";
import { matMulKernelConfigs } from "./BatchMatMul.js";
import { reduceKernelConfigs } from "./reduce.js";
import { transposeKernelConfigs } from "./Transpose.js";
import { unaryKernelConfigs } from "./unary.js";

export const cudaKernelConfigs: tf.KernelConfig[] = [
  ...unaryKernelConfigs,
  ...binaryKernelConfigs,
  ...reduceKernelConfigs,
  ...transposeKernelConfigs,
  ...matMulKernelConfigs,
  ...copyKernelConfigs,
  ...gatherKernelConfigs,
  ...fusedKernelConfigs,
];
