// Named tensors <-> the tfjs weights format (docs/run-format.md), via core's encode/decodeWeights:
// `<name>.json` + `<name>.bin` (model.json + weights.bin keep their documented names).
import * as fs from "node:fs";
import * as path from "node:path";
import { decodeWeights, encodeWeights, type NamedTensors, type WeightsJson } from "@dilemma/core";
import { readJson, writeFileAtomic, writeFileSynced } from "./atomic.js";

const binName = (name: string): string => (name === "model" ? "weights.bin" : `${name}.bin`);

/**
 * Writes `tensors` as `<name>.json` + its .bin in `dir`. `atomic` renames each file into place
 * (.bin first, so a visible .json always has its bytes); without it the files are only fsynced
 * (for a directory that is published as a whole by a rename).
 */
export async function saveWeights(
  dir: string, name: string, tensors: NamedTensors, extra: Record<string, unknown> = {}, atomic = true,
): Promise<void> {
  const { modelJson, data } = await encodeWeights(tensors);
  const bin = binName(name);
  const json: WeightsJson = { ...modelJson, ...extra, weightsManifest: modelJson.weightsManifest.map((g) => ({ ...g, paths: [bin] })) };
  const write = atomic ? writeFileAtomic : writeFileSynced;
  write(path.join(dir, bin), new Uint8Array(data));
  write(path.join(dir, `${name}.json`), JSON.stringify(json) + "\n");
}

/** Reads `<jsonFile>` and its .bin back into tensors (caller disposes). */
export function loadWeights(jsonFile: string): { tensors: NamedTensors; json: WeightsJson } {
  const json = readJson<WeightsJson>(jsonFile);
  const paths = Array.isArray(json?.weightsManifest) ? json.weightsManifest.flatMap((g) => g.paths) : [];
  const buffers = paths.map((p) => {
    const file = path.join(path.dirname(jsonFile), p);
    if (!fs.existsSync(file)) throw new Error(`${jsonFile} refers to ${p}, which is missing`);
    return fs.readFileSync(file);
  });
  const buf = Buffer.concat(buffers);
  try {
    const tensors = decodeWeights(json, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer);
    return { tensors, json };
  } catch (e) {
    throw new Error(`${jsonFile}: ${(e as Error).message}`);
  }
}

/** Disposes every tensor of a map. */
export function disposeAll(t: NamedTensors): void {
  for (const v of Object.values(t)) v.dispose();
}
