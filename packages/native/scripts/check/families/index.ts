// The op families of the kernel check, in the order the cases run (a restart after a crashed
// case resumes by index, so the order is part of the contract between parent and child).
import type { Family } from "../case.js";
import { batchnorm } from "./batchnorm.js";
import { binary } from "./binary.js";
import { embed } from "./embed.js";
import { fused } from "./fused.js";
import { gelu } from "./gelu.js";
import { layernorm } from "./layernorm.js";
import { matmul } from "./matmul.js";
import { optim } from "./optim.js";
import { reduce } from "./reduce.js";
import { softmax } from "./softmax.js";
import { transpose } from "./transpose.js";
import { unary } from "./unary.js";

export const FAMILIES: Family[] = [unary, binary, reduce, softmax, transpose, matmul, gelu, layernorm, fused, embed, optim, batchnorm];
