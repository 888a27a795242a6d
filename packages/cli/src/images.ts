// Images as the model sees them: NCHW float32, normalised with the data module's mean/std.
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs-core";
import type { Sample } from "./data/index.js";

export interface Normalize { mean: ArrayLike<number>; std: ArrayLike<number> }

/** HWC uint8 RGB samples -> [B, 3, S, S] normalised float32 (all samples must be S x S). */
export function samplesToTensor(samples: Sample[], size: number, norm: Normalize): tf.Tensor4D {
  const B = samples.length, plane = size * size;
  const out = new Float32Array(B * 3 * plane);
  samples.forEach((s, b) => {
    if (s.width !== size || s.height !== size) {
      throw new Error(`image ${b} is ${s.width}x${s.height}, expected ${size}x${size}`);
    }
    for (let c = 0; c < 3; c++) {
      const m = norm.mean[c], sd = norm.std[c], base = (b * 3 + c) * plane;
      for (let i = 0; i < plane; i++) out[base + i] = (s.pixels[i * 3 + c] / 255 - m) / sd;
    }
  });
  return tf.tensor4d(out, [B, 3, size, size]);
}

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|tiff?|avif|bmp)$/i;

/** An image file, or every image file of a directory (sorted), for `detect`. */
export function listImages(target: string): string[] {
  if (!fs.existsSync(target)) throw new Error(`${target} does not exist; pass an image file or a directory of images`);
  if (fs.statSync(target).isDirectory()) {
    const files = fs.readdirSync(target).filter((f) => IMAGE_EXT.test(f)).sort().map((f) => path.join(target, f));
    if (files.length === 0) throw new Error(`${target} has no images (.png, .jpg, .webp, ...)`);
    return files;
  }
  return [target];
}

/** Reads an image file, centre-crops it square and resizes to size x size RGB. */
export async function loadImage(file: string, size: number): Promise<Sample> {
  try {
    const { data, info } = await sharp(file).removeAlpha().resize(size, size, { fit: "cover" }).toColourspace("srgb")
      .raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: size, height: size, label: -1 };
  } catch (e) {
    throw new Error(`cannot read image ${file}: ${(e as Error).message}`);
  }
}
