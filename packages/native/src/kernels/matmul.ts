// BatchMatMul and _FusedMatMul on BLAS (csrc/engine/matmul.cc). Batch dims broadcast like the
// tfjs cpu kernel (operand batch index = output batch index mod operand batch).
import * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, size, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";
import { ACT } from "../cuda/addon.js";
import { planMatMul } from "./matmul_plan.js";

export function matMulImpl({ inputs, backend, attrs }: KernelArgs, addon: Addon): tf.TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  if (a === undefined || b === undefined) return null;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const activation = ((attrs?.activation as string | undefined) ?? "linear");
  const act = (ACT as Record<string, number>)[activation];
  if (act === undefined || preluActivationWeights != null) return null;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (av === null || bv === null) return null;
  let biasV: Float32Array | null = null;
  let biasLen = 0;
  if (bias != null) {
    biasV = f32(backend, bias);
    if (biasV === null) return null;
    biasLen = size(bias.shape);
    if (biasLen !== 1 && !(bias.shape.length === 1 || size(bias.shape.slice(0, -1)) === 1)) return null;
  }
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const { m, n, k, outer, batchA, batchB, batchOut, idxA, idxB } = planMatMul(a.shape, b.shape, transposeA, transposeB);
  if (biasLen > 1 && biasLen !== n) return null;
  const out = allocOutput(batchOut * m * n);
  const alpha = (attrs?.leakyreluAlpha as number | undefined) ?? 0.2;
  addon.matMul(av, bv, out, batchA, batchB, batchOut, m, n, k, transposeA, transposeB, biasV, biasLen, act, alpha, idxA, idxB);
  return output(backend, [...outer, m, n], out);
}

export const matMulKernels: Record<string, NativeKernel> = { BatchMatMul: matMulImpl, _FusedMatMul: matMulImpl };
