// Index-driven kernels whose indices are small host-known tensors (no device sync for them):
// GatherV2 (row copies), UnsortedSegmentSum (a one-hot product), Range (computed on the host),
// Reverse (negative-stride copy), and Conv2D in its patch-embedding form (a reshaped product).
import * as tf from "@tensorflow/tfjs-core";
import { runCpuFallback } from "../fallback.js";
import { stridedCopy } from "./copy.js";
import { transposeOp } from "./transpose.js";
import { assertSupported, cudaKernel, size, strides, type CudaKernelArgs } from "./util.js";

const gatherV2 = cudaKernel("GatherV2", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const { x, indices } = inputs;
  assertSupported("GatherV2", x, indices);
  const axis = tf.util.parseAxisParam(attrs?.axis as number, x.shape)[0];
  const idx = backend.readSync(indices.dataId) as Int32Array | Float32Array;
  const axisDim = x.shape[axis];
  for (let i = 0; i < idx.length; i++) {
    tf.util.assert(idx[i] <= axisDim - 1 && idx[i] >= 0, () => `GatherV2: the index value ${idx[i]} is not in [0, ${axisDim - 1}]`);
  }
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, axis,
    (attrs?.batchDims as number | undefined) ?? 0);
  const out = backend.makeOutput(info.outputShape, x.dtype);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const perBatch = idx.length / batchSize;
  if (size(info.outputShape) === 0) return out;
  // One [outerSize, run * sliceSize] copy per run of consecutive indices.
  for (let b = 0; b < batchSize; b++) {
    for (let j = 0; j < perBatch;) {
      const first = idx[b * perBatch + j];
      let run = 1;
      while (j + run < perBatch && idx[b * perBatch + j + run] === first + run) run++;
      stridedCopy(backend, x, out, [outerSize, run * sliceSize],
        (b * outerSize * dimSize + first) * sliceSize, [dimSize * sliceSize, 1],
        (b * outerSize * perBatch + j) * sliceSize, [perBatch * sliceSize, 1]);
      j += run;
    }
  }
  return out;
});

const unsortedSegmentSum = cudaKernel("UnsortedSegmentSum", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { x, segmentIds } = inputs;
  const numSegments = attrs?.numSegments as number;
  const count = size(segmentIds.shape);
  if (x.dtype !== "float32" || segmentIds.shape.length !== 1 || x.shape[0] !== count) return runCpuFallback("UnsortedSegmentSum", args);
  const inner = size(x.shape.slice(1));
  const outShape = [numSegments, ...x.shape.slice(1)];
  const out = backend.makeOutput(outShape, "float32");
  if (size(outShape) === 0) return out;
  if (count === 0) {
    backend.gpu.fill(backend.bufferOf(out), size(outShape), 0, 0);
    return out;
  }
  // out = onehot[numSegments, count] · x[count, inner]; ids outside [0, numSegments) drop out, as in tfjs.
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  const onehot = new Float32Array(numSegments * count);
  for (let i = 0; i < count; i++) if (ids[i] >= 0 && ids[i] < numSegments) onehot[ids[i] * count + i] = 1;
  const oh = backend.makeTensorInfo([numSegments, count], "float32", onehot);
  backend.gpu.matMul(backend.bufferOf(oh), backend.bufferOf(x), backend.bufferOf(out), 1, 1, 1, numSegments, inner, count,
    false, false, 0, 0, 0, 0);
  backend.disposeIntermediateTensorInfo(oh);
  return out;
});

const range = cudaKernel("Range", ({ backend, attrs }: CudaKernelArgs) => {
  const { start, stop, step } = attrs as { start: number; stop: number; step: number };
  const dtype = (attrs?.dtype as "float32" | "int32" | undefined) ?? "float32";
  const sameSign = start < stop === step > 0;
  const n = start === stop || !sameSign || step === 0 ? 0 : Math.abs(Math.ceil((stop - start) / step));
  const values = dtype === "int32" ? new Int32Array(n) : new Float32Array(n);
  // Accumulated in the output type, like tfjs cpu.
  if (n > 0) values[0] = start;
  for (let i = 1; i < n; i++) values[i] = values[i - 1] + step;
  return backend.makeTensorInfo([n], dtype, values);
});

const reverse = cudaKernel("Reverse", ({ inputs, backend, attrs }: CudaKernelArgs) => {
  const x = inputs.x;
  assertSupported("Reverse", x);
  const dims = tf.util.parseAxisParam(attrs?.dims as number | number[], x.shape);
  const out = backend.makeOutput(x.shape, x.dtype);
  if (size(x.shape) === 0) return out;
  const st = strides(x.shape);
  const src = [...st];
  let off = 0;
  for (const d of dims) {
    off += (x.shape[d] - 1) * st[d];
    src[d] = -st[d];
  }
  stridedCopy(backend, x, out, x.shape.length === 0 ? [1] : x.shape, off, x.shape.length === 0 ? [1] : src, 0,
    x.shape.length === 0 ? [1] : st);
  return out;
});

/**
 * Conv2D whose stride equals its window (no padding, no dilation, NHWC): the ViT patch
 * embedding. Patches are disjoint, so it is a [N·Ho·Wo, fh·fw·C] x [fh·fw·C, D] product.
 */
const conv2D = cudaKernel("Conv2D", (args: CudaKernelArgs) => {
  const { inputs, backend, attrs } = args;
  const { x, filter } = inputs;
  const a = attrs as { strides: number | [number, number]; pad: unknown; dataFormat?: string; dilations?: number | [number, number] };
  const [sh, sw] = typeof a.strides === "number" ? [a.strides, a.strides] : a.strides;
  const [dh, dw] = a.dilations == null ? [1, 1] : typeof a.dilations === "number" ? [a.dilations, a.dilations] : a.dilations;
  const [N, H, W, C] = x.shape;
  const [fh, fw, fc, D] = filter.shape;
  const patchForm = x.dtype === "float32" && filter.dtype === "float32" && (a.dataFormat ?? "NHWC") === "NHWC" &&
    a.pad === "valid" && dh === 1 && dw === 1 && sh === fh && sw === fw && fc === C && H % fh === 0 && W % fw === 0;
  if (!patchForm) return runCpuFallback("Conv2D", args);
  const [Ho, Wo] = [H / fh, W / fw];
  const view = backend.makeView(x, [N, Ho, fh, Wo, fw, C]);
  const patches = transposeOp(backend, view, [0, 1, 3, 2, 4, 5]);
  backend.disposeIntermediateTensorInfo(view);
  const out = backend.makeOutput([N, Ho, Wo, D], "float32");
  const M = N * Ho * Wo;
  const K = fh * fw * C;
  if (M * D > 0) {
    backend.gpu.matMul(backend.bufferOf(patches), backend.bufferOf(filter), backend.bufferOf(out), 1, 1, 1, M, D, K,
      false, false, 0, 0, 0, 0);
  }
  backend.disposeIntermediateTensorInfo(patches);
  return out;
});

export const gatherKernelConfigs: tf.KernelConfig[] = [gatherV2, unsortedSegmentSum, range, reverse, conv2D];
