// Deterministic timm-like initialisation: each parameter draws from its own seeded stream.
import * as tf from "@tensorflow/tfjs-core";

/** Truncated normal (|z| <= 2 std) with mean 0. */
export function truncNormal(shape: number[], std: number, seed: number): tf.Tensor {
  return tf.truncatedNormal(shape, 0, std, "float32", seed);
}

/** Xavier (Glorot) uniform for a weight viewed as [fanOut, fanIn]. */
export function xavierUniform(shape: number[], fanOut: number, fanIn: number, seed: number): tf.Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return tf.randomUniform(shape, -a, a, "float32", seed);
}

/**
 * Fixed 2-D sin-cos positional embedding [1, gh*gw, D] (MoCo v3 / MAE style): the first half
 * of the channels encodes the column, the second half the row, each as [sin, cos] over D/4
 * frequencies 1 / 10000^(k / (D/4)). Patch l = row * gw + col.
 */
export function sincosPosEmbed(gridH: number, gridW: number, dim: number): tf.Tensor3D {
  if (dim % 4 !== 0) throw new Error(`sincos positional embedding needs embedDim divisible by 4, got ${dim}`);
  const q = dim / 4;
  const out = new Float32Array(gridH * gridW * dim);
  for (let r = 0; r < gridH; r++) {
    for (let c = 0; c < gridW; c++) {
      const o = (r * gridW + c) * dim;
      for (let k = 0; k < q; k++) {
        const omega = 1 / Math.pow(10000, k / q);
        out[o + k] = Math.sin(c * omega);
        out[o + q + k] = Math.cos(c * omega);
        out[o + 2 * q + k] = Math.sin(r * omega);
        out[o + 3 * q + k] = Math.cos(r * omega);
      }
    }
  }
  return tf.tensor3d(out, [1, gridH * gridW, dim]);
}
