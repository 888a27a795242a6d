// Loader for the float64 PyTorch reference fixtures (see ../fixtures/README.md).
// Node-only test utility: core itself never touches the file system.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import type { ViTConfig } from "../../src/api.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Fixture root: $DILEMMA_FIXTURES (another fixture set of the same kinds), else the set in test/fixtures. */
export function fixturesRoot(): string {
  const env = process.env.DILEMMA_FIXTURES;
  if (env) return resolve(env);
  return resolve(here, "../fixtures");
}

/** ViTConfig from a fixture's `config.vit` (snake_case, as the reference writes it). */
export function vitConfigOf(v: Record<string, number>): ViTConfig {
  return { imgSize: v.img_size, patchSize: v.patch_size, inChans: v.in_chans, embedDim: v.embed_dim, depth: v.depth, numHeads: v.num_heads, mlpRatio: v.mlp_ratio };
}

export interface TensorSpec { file: string; dtype: "float32" | "int32"; shape: number[] }
export interface Manifest {
  case: string;
  description?: string;
  config: Record<string, any> & { kind: string };
  tensors: Record<string, TensorSpec>;
  tolerance?: { rtol: number; atol: number };
}

export interface FixtureCase {
  name: string;
  dir: string;
  manifest: Manifest;
  /** Names of all tensors in manifest order. */
  names: string[];
  has(name: string): boolean;
  /** Raw typed array of a tensor. */
  array(name: string): Float32Array | Int32Array;
  shape(name: string): number[];
  /** The tensor as a tf.Tensor (caller disposes). */
  tensor(name: string): tf.Tensor;
  /** Scalar value of a shape-[] tensor. */
  scalar(name: string): number;
}

export function loadCase(dir: string): FixtureCase {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  const cache = new Map<string, Float32Array | Int32Array>();
  const spec = (name: string): TensorSpec => {
    const s = manifest.tensors[name];
    if (!s) throw new Error(`fixture ${manifest.case}: no tensor named "${name}"`);
    return s;
  };
  const array = (name: string) => {
    let a = cache.get(name);
    if (!a) {
      const s = spec(name);
      const buf = readFileSync(join(dir, s.file));
      const n = s.shape.reduce((x, y) => x * y, 1);
      if (buf.byteLength !== 4 * n) {
        throw new Error(`fixture ${manifest.case}: ${s.file} has ${buf.byteLength} bytes, expected ${4 * n}`);
      }
      const copy = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      a = s.dtype === "int32" ? new Int32Array(copy) : new Float32Array(copy);
      cache.set(name, a);
    }
    return a;
  };
  return {
    name: manifest.case,
    dir,
    manifest,
    names: Object.keys(manifest.tensors),
    has: (name) => name in manifest.tensors,
    array,
    shape: (name) => spec(name).shape,
    tensor: (name) => tf.tensor(array(name), spec(name).shape, spec(name).dtype),
    scalar: (name) => array(name)[0],
  };
}

/** Every case folder under the root (folders holding a manifest.json), sorted by name. */
export function listCases(root = fixturesRoot()): { name: string; dir: string; kind: string }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => ({ name, dir: join(root, name) }))
    .filter(({ dir }) => statSync(dir).isDirectory() && existsSync(join(dir, "manifest.json")))
    .map(({ name, dir }) => ({
      name,
      dir,
      kind: (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest).config.kind,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** max|a - e| <= atol + rtol * max|e| (the fixtures' recommended per-tensor check). */
export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { rtol: number; atol: number }) {
  if (actual.length !== expected.length) {
    return { ok: false, maxAbsErr: Infinity, bound: 0, message: `length ${actual.length} != expected ${expected.length}` };
  }
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(err)) { maxErr = Infinity; continue; } // NaN is always a failure
    if (err > maxErr) maxErr = err;
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  const bound = tol.atol + tol.rtol * maxRef;
  return { ok: maxErr <= bound, maxAbsErr: maxErr, bound, message: `max|err| ${maxErr.toExponential(3)} vs bound ${bound.toExponential(3)}` };
}
