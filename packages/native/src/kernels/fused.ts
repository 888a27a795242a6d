// FusedAttention / FusedMlp and their gradients, the fused ViT-block ops of @dilemma/core
// (docs/ops.md), on csrc/engine/attention.cc and mlp.cc: one addon call each.
import type * as tf from "@tensorflow/tfjs-core";
import { allocOutput, f32, output, size, type KernelArgs, type NativeKernel } from "./util.js";
import type { Addon } from "../addon.js";

/** The float32 arrays of `names`, or null when any is not float32 (the cpu kernel runs). */
function arrays(args: KernelArgs, names: string[]): Float32Array[] | null {
  const out: Float32Array[] = [];
  for (const n of names) {
    const v = f32(args.backend, args.inputs[n]);
    if (v === null) return null;
    out.push(v);
  }
  return out;
}

export function fusedAttentionImpl(args: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const a = arrays(args, ["x", "qkvW", "qkvB", "projW", "projB"]);
  if (a === null) return null;
  const [B, N, D] = args.inputs.x.shape;
  const H = args.attrs?.numHeads as number;
  const { backend } = args;
  const out = allocOutput(B * N * D);
  if (args.attrs?.inference === true) {
    // No gradient will be taken: the activations stay inside the addon call.
    addon.attention(a[0], a[1], a[2], a[3], a[4], out, null, null, null, B, N, D, H);
    return [output(backend, [B, N, D], out)];
  }
  const qkv = allocOutput(B * N * 3 * D), probs = allocOutput(B * H * N * N), ctx = allocOutput(B * N * D);
  addon.attention(a[0], a[1], a[2], a[3], a[4], out, qkv, probs, ctx, B, N, D, H);
  return [output(backend, [B, N, D], out), output(backend, [B, N, 3 * D], qkv), output(backend, [B, H, N, N], probs), output(backend, [B, N, D], ctx)];
}

export function fusedAttentionGradImpl(args: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const a = arrays(args, ["dy", "x", "qkvW", "projW", "qkv", "probs", "ctx"]);
  if (a === null) return null;
  const [B, N, D] = args.inputs.x.shape;
  const H = args.attrs?.numHeads as number;
  const dx = allocOutput(B * N * D), dQkvW = allocOutput(3 * D * D), dQkvB = allocOutput(3 * D), dProjW = allocOutput(D * D), dProjB = allocOutput(D);
  addon.attentionGrad(a[0], a[1], a[2], a[3], a[4], a[5], a[6], dx, dQkvW, dQkvB, dProjW, dProjB, B, N, D, H);
  const { backend } = args;
  return [output(backend, [B, N, D], dx), output(backend, [3 * D, D], dQkvW), output(backend, [3 * D], dQkvB), output(backend, [D, D], dProjW), output(backend, [D], dProjB)];
}

export function fusedMlpImpl(args: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const a = arrays(args, ["x", "fc1W", "fc1B", "fc2W", "fc2B"]);
  if (a === null) return null;
  const shape = args.inputs.x.shape;
  const D = shape[shape.length - 1], Hd = args.inputs.fc1W.shape[0];
  const rows = size(shape) / D;
  const { backend } = args;
  const out = allocOutput(rows * D);
  if (args.attrs?.inference === true) {
    addon.mlp(a[0], a[1], a[2], a[3], a[4], out, null, null, rows, D, Hd);
    return [output(backend, shape, out)];
  }
  const pre = allocOutput(rows * Hd), act = allocOutput(rows * Hd);
  addon.mlp(a[0], a[1], a[2], a[3], a[4], out, pre, act, rows, D, Hd);
  const hShape = [...shape.slice(0, -1), Hd];
  return [output(backend, shape, out), output(backend, hShape, pre), output(backend, hShape, act)];
}

export function fusedMlpGradImpl(args: KernelArgs, addon: Addon): tf.TensorInfo[] | null {
  const a = arrays(args, ["dy", "x", "fc1W", "fc2W", "pre", "act"]);
  if (a === null) return null;
  const shape = args.inputs.x.shape;
  const D = shape[shape.length - 1], Hd = args.inputs.fc1W.shape[0];
  const rows = size(shape) / D;
  const dx = allocOutput(rows * D), dFc1W = allocOutput(Hd * D), dFc1B = allocOutput(Hd), dFc2W = allocOutput(D * Hd), dFc2B = allocOutput(D);
  addon.mlpGrad(a[0], a[1], a[2], a[3], a[4], a[5], dx, dFc1W, dFc1B, dFc2W, dFc2B, rows, D, Hd);
  const { backend } = args;
  return [output(backend, shape, dx), output(backend, [Hd, D], dFc1W), output(backend, [Hd], dFc1B), output(backend, [D, Hd], dFc2W), output(backend, [D], dFc2B)];
}

export const fusedKernels: Record<string, NativeKernel> = {
  FusedAttention: fusedAttentionImpl, FusedAttentionGrad: fusedAttentionGradImpl, FusedMlp: fusedMlpImpl, FusedMlpGrad: fusedMlpGradImpl,
};
