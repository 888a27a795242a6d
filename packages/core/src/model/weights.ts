// Named tensors <-> tfjs weights format (docs/run-format.md: model.json + weights.bin), and
// the one check behind every setWeights / setState.
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../api.js";

/** The JSON half of a checkpoint: tfjs weights manifest with one `weights.bin` file. */
export interface WeightsJson {
  format: "dilemma-weights";
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  [k: string]: unknown;
}

/** Serialises named tensors (order kept) to a weights manifest and one binary buffer. */
export async function encodeWeights(named: NamedTensors): Promise<{ modelJson: WeightsJson; data: ArrayBuffer }> {
  const { data, specs } = await tf.io.encodeWeights(named);
  return {
    modelJson: { format: "dilemma-weights", weightsManifest: [{ paths: ["weights.bin"], weights: specs }] },
    data,
  };
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function specBytes(s: tf.io.WeightsManifestEntry): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const dtype = s.quantization ? s.quantization.dtype : s.dtype;
  const b = BYTES[dtype];
  if (b === undefined) throw new Error(`decodeWeights: unsupported dtype "${dtype}" for "${s.name}"`);
  return n * b;
}

/** Inverse of encodeWeights (caller disposes the tensors). Checks the format and byte length. */
export function decodeWeights(modelJson: { format?: unknown; weightsManifest?: unknown }, data: ArrayBuffer): NamedTensors {
  if (modelJson.format !== "dilemma-weights" || !Array.isArray(modelJson.weightsManifest)) {
    throw new Error(`decodeWeights: not a dilemma weights file (format ${JSON.stringify(modelJson.format)}, expected "dilemma-weights" with a weightsManifest)`);
  }
  const specs = (modelJson.weightsManifest as WeightsJson["weightsManifest"]).flatMap((g) => g.weights);
  const expected = specs.reduce((a, s) => a + specBytes(s), 0);
  if (data.byteLength !== expected) {
    throw new Error(`decodeWeights: weights.bin has ${data.byteLength} bytes but the manifest describes ${expected}; the files are from different checkpoints or truncated`);
  }
  return tf.io.decodeWeights(data, specs) as NamedTensors;
}

/**
 * Assigns `given[name]` to each variable of `vars`, after checking everything (so a failed call
 * changes nothing): every given name known (unless `ignoreUnknown`), every variable given
 * (unless `partial`), shapes equal, float32. `noun` names the tensors in the unknown-name error.
 */
export function assignNamed(owner: string, vars: Map<string, tf.Variable>, given: NamedTensors,
  opts: { partial?: boolean; ignoreUnknown?: boolean; noun?: string } = {}): void {
  const err = (msg: string) => new Error(`${owner}: ${msg}`);
  const unknown = opts.ignoreUnknown ? [] : Object.keys(given).filter((n) => !vars.has(n));
  if (unknown.length) throw err(`unknown ${opts.noun ?? "weights"} ${unknown.slice(0, 8).join(", ")}${unknown.length > 8 ? ", ..." : ""}`);
  for (const [n, v] of vars) {
    const t = given[n];
    if (!t) {
      if (opts.partial) continue;
      throw err(`missing "${n}" (shape [${v.shape}])`);
    }
    if (!tf.util.arraysEqual(t.shape, v.shape)) throw err(`"${n}" has shape [${t.shape}], expected [${v.shape}]`);
    if (t.dtype !== "float32") throw err(`"${n}" must be float32, got ${t.dtype}`);
  }
  for (const [n, v] of vars) if (given[n] && given[n] !== v) v.assign(given[n]);
}
