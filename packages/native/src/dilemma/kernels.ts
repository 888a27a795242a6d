/**
 * tfjs kernels DilemmaEmbed / DilemmaEmbedGrad (contract: docs/ops.md) on the native C++ kernels,
 * for any backend that keeps tensors as typed arrays the way tfjs-backend-cpu does.
 */
import * as tf from "@tensorflow/tfjs-core";
import { dilemmaAddon } from "./addon.js";

/** Kernel names shared with @dilemma/core. */
export const DILEMMA_EMBED = "DilemmaEmbed";
export const DILEMMA_EMBED_GRAD = "DilemmaEmbedGrad";

/** The part of a CPU-style backend the kernels use. */
interface TypedArrayBackend {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo;
}

function values(backend: TypedArrayBackend, t: tf.TensorInfo, op: string, name: string): unknown {
  const v = backend.data.get(t.dataId)?.values;
  if (v == null) {
    throw new Error(`${op}: ${name} has no CPU values on this backend; the native DILEMMA kernels need a tfjs-backend-cpu style backend`);
  }
  return v;
}

function f32(backend: TypedArrayBackend, t: tf.TensorInfo, op: string, name: string): Float32Array {
  const v = values(backend, t, op, name);
  if (t.dtype !== "float32") throw new Error(`${op}: ${name} must be float32, got ${t.dtype}`);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

function i32(backend: TypedArrayBackend, t: tf.TensorInfo, op: string, name: string): Int32Array {
  const v = values(backend, t, op, name);
  if (t.dtype !== "int32") throw new Error(`${op}: ${name} must be int32, got ${t.dtype}`);
  return v instanceof Int32Array ? v : Int32Array.from(v as ArrayLike<number>);
}

function shapeCheck(ok: boolean, msg: string): void {
  if (!ok) throw new Error(msg);
}

const embedKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const op = DILEMMA_EMBED;
  const { tokens, posEmbed, realPos, inputPos } = inputs as Record<string, tf.TensorInfo>;
  const be = backend as unknown as TypedArrayBackend;
  shapeCheck(tokens.shape.length === 3, `${op}: tokens must be [B, L, D], got [${tokens.shape}]`);
  const [B, L, D] = tokens.shape;
  shapeCheck(realPos.shape.length === 2 && realPos.shape[0] === B, `${op}: realPos must be [B, K] with B = ${B}, got [${realPos.shape}]`);
  const K = realPos.shape[1];
  shapeCheck(inputPos.shape.length === 2 && inputPos.shape[0] === B && inputPos.shape[1] === K,
    `${op}: inputPos must be [${B}, ${K}] like realPos, got [${inputPos.shape}]`);
  shapeCheck(posEmbed.shape.length === 2 && posEmbed.shape[0] === L && posEmbed.shape[1] === D,
    `${op}: posEmbed must be [L, D] = [${L}, ${D}], got [${posEmbed.shape}]`);
  const out = new Float32Array(B * K * D);
  dilemmaAddon().dilemmaEmbedForward(
    f32(be, tokens, op, "tokens"), f32(be, posEmbed, op, "posEmbed"),
    i32(be, realPos, op, "realPos"), i32(be, inputPos, op, "inputPos"), B, L, K, D, out,
  );
  return be.makeTensorInfo([B, K, D], "float32", out);
};

const embedGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const op = DILEMMA_EMBED_GRAD;
  const { dy, realPos, inputPos } = inputs as Record<string, tf.TensorInfo>;
  const be = backend as unknown as TypedArrayBackend;
  const L = (attrs as { numPatches?: unknown } | undefined)?.numPatches;
  shapeCheck(typeof L === "number" && Number.isInteger(L) && L >= 1, `${op}: attrs.numPatches must be a positive integer, got ${String(L)}`);
  const numPatches = L as number;
  shapeCheck(dy.shape.length === 3, `${op}: dy must be [B, K, D], got [${dy.shape}]`);
  const [B, K, D] = dy.shape;
  for (const [name, t] of [["realPos", realPos], ["inputPos", inputPos]] as const) {
    shapeCheck(t.shape.length === 2 && t.shape[0] === B && t.shape[1] === K, `${op}: ${name} must be [${B}, ${K}], got [${t.shape}]`);
  }
  const dTokens = new Float32Array(B * numPatches * D);
  const dPos = new Float32Array(numPatches * D);
  dilemmaAddon().dilemmaEmbedBackward(
    f32(be, dy, op, "dy"), i32(be, realPos, op, "realPos"), i32(be, inputPos, op, "inputPos"),
    B, numPatches, K, D, dTokens, dPos,
  );
  return [be.makeTensorInfo([B, numPatches, D], "float32", dTokens), be.makeTensorInfo([numPatches, D], "float32", dPos)];
};

/**
 * Registers the native DilemmaEmbed and DilemmaEmbedGrad kernels for `backendName` (a backend
 * storing tensors as typed arrays, like tfjs "cpu" or @dilemma/native's "native"). Idempotent:
 * names already registered for that backend are left as they are.
 * @throws Error when the addon or its DILEMMA kernels are unavailable (says how to build them).
 */
export function registerDilemmaKernels(backendName: string): void {
  dilemmaAddon();  // fail now, with the reason, rather than inside a training step
  for (const [kernelName, kernelFunc] of [[DILEMMA_EMBED, embedKernel], [DILEMMA_EMBED_GRAD, embedGradKernel]] as const) {
    if (tf.getKernel(kernelName, backendName) == null) tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}

/** Removes the kernels registered by {@link registerDilemmaKernels} (for tests and benchmarks). */
export function unregisterDilemmaKernels(backendName: string): void {
  for (const kernelName of [DILEMMA_EMBED, DILEMMA_EMBED_GRAD]) {
    if (tf.getKernel(kernelName, backendName) != null) tf.unregisterKernel(kernelName, backendName);
  }
}
