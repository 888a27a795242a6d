// Every kernel the native backend replaces, by tfjs kernel name (the rest, and inputs an impl
// returns null for, run the cpu kernel: util.ts nativeKernel).
import { binaryKernels } from "./binary.js";
import { copyKernels } from "./copy.js";
import { fusedKernels } from "./fused.js";
import { geluErfKernels } from "./gelu_erf.js";
import { layerNormKernels } from "./layer_norm.js";
import { matMulKernels } from "./matmul.js";
import { optimKernels } from "./optim.js";
import { reduceKernels } from "./reduce.js";
import { softmaxKernels } from "./softmax.js";
import { transposeKernels } from "./transpose.js";
import { unaryKernels } from "./unary.js";
import type { NativeKernel } from "./util.js";

export const nativeKernels: Readonly<Record<string, NativeKernel>> = {
  ...matMulKernels,
  ...softmaxKernels,
  ...transposeKernels,
  ...reduceKernels,
  ...geluErfKernels,
  ...layerNormKernels,
  ...fusedKernels,
  ...optimKernels,
  ...copyKernels,
  ...binaryKernels,
  ...unaryKernels,
};
