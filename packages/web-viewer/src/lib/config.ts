// Reading a run's (or an export's) config.json into what the viewer needs: the ViT architecture,
// the DILEMMA defaults for the inspector's sliders and the input normalisation.

import type { ViTConfig } from "@dilemma/core";

/** core's ViT architecture, with the positional-embedding kind always resolved. */
export type ViewerModelConfig = Required<ViTConfig>;

export interface ViewerConfig {
  model: ViewerModelConfig;
  preset?: string;
  method?: string;
  tokenDrop: number;
  dilemmaProb: number;
  mean: [number, number, number];
  std: [number, number, number];
  classNames: string[];
  /** The parsed file, for the summary table. */
  raw: Record<string, unknown>;
}

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const triple = (v: unknown): [number, number, number] | undefined =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number") ? (v as [number, number, number]) : undefined;

/** Throws with a message naming the missing field when the model section is unusable. */
export function parseConfig(json: unknown): ViewerConfig {
  const raw = obj(json);
  // Runs nest the architecture under "model", `dilemma-cli export` under "vit" (preset beside it).
  const m = Object.keys(obj(raw.model)).length ? obj(raw.model) : Object.keys(obj(raw.vit)).length ? { preset: raw.preset, ...obj(raw.vit) } : raw;
  const need = (k: string): number => {
    const v = num(m[k]);
    if (v === undefined) throw new Error(`config.json: model.${k} is missing or not a number`);
    return v;
  };
  const model: ViewerModelConfig = {
    imgSize: need("imgSize"),
    patchSize: need("patchSize"),
    inChans: num(m.inChans) ?? 3,
    embedDim: need("embedDim"),
    depth: need("depth"),
    numHeads: need("numHeads"),
    mlpRatio: num(m.mlpRatio) ?? 4,
    posEmbed: m.posEmbed === "sincos" ? "sincos" : "learned",
  };
  const d = obj(raw.dilemma);
  const data = obj(raw.data);
  // Normalisation: ImageNet statistics unless the config names its own (data.mean/std or a
  // top-level normalize block).
  const norm = obj(raw.normalize);
  return {
    model,
    preset: typeof m.preset === "string" ? m.preset : undefined,
    method: typeof raw.method === "string" ? raw.method : undefined,
    tokenDrop: num(d.tokenDrop) ?? 0.75,
    dilemmaProb: num(d.dilemmaProb) ?? 0.2,
    mean: triple(data.mean) ?? triple(norm.mean) ?? IMAGENET_MEAN,
    std: triple(data.std) ?? triple(norm.std) ?? IMAGENET_STD,
    classNames: Array.isArray(data.classNames) ? data.classNames.map(String) : [],
    raw,
  };
}

/** Flat "key: value" rows for the config summary (nested objects become dotted keys). */
export function flattenConfig(value: unknown, prefix = ""): [string, string][] {
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(obj(value))) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) rows.push(...flattenConfig(v, key));
    else rows.push([key, Array.isArray(v) ? (v.length > 8 ? `${v.slice(0, 8).join(", ")}, … (${v.length})` : v.join(", ")) : String(v)]);
  }
  return rows;
}

/** Image pixels (RGBA, row-major imgSize^2) -> normalised CHW floats. */
export function normalizePixels(rgba: ArrayLike<number>, size: number, mean: readonly number[], std: readonly number[], chans = 3): Float32Array {
  const n = size * size;
  if (rgba.length !== n * 4) throw new Error(`expected ${n * 4} RGBA values, got ${rgba.length}`);
  const out = new Float32Array(chans * n);
  for (let c = 0; c < chans; c++) {
    for (let i = 0; i < n; i++) out[c * n + i] = (rgba[i * 4 + c] / 255 - mean[c]) / std[c];
  }
  return out;
}
