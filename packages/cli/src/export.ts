// `dilemma-cli export`: the trained encoder (timm names, no prefix) + dilemma_head.* + config.json,
// loadable by core's ViT / DetectionHead in Node or the browser, and the same tensors as
// model.safetensors for PyTorch / timm (load_state_dict) and `train --init`.
import * as fs from "node:fs";
import * as path from "node:path";
import { encodeSafetensors, type NamedTensors, type ViTConfig } from "@dilemma/core";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import { data } from "./deps.js";
import { openRun } from "./load-run.js";
import { saveWeights } from "./weights.js";

/** config.json of an export. */
export interface ExportConfig {
  format: "dilemma-export";
  version: 1;
  vit: ViTConfig;
  preset: string;
  method: string;
  dilemma: { tokenDrop: number; dilemmaProb: number; dilemmaWeight: number };
  hasDilemmaHead: boolean;
  data: { spec: string; numClasses: number; classNames: string[] };
  normalize: { mean: number[]; std: number[] };
  source: { run: string; checkpoint: string; step: number };
  exportedAt: string;
}

/** Writes `outDir/model.json` + `weights.bin`, `model.safetensors` and `config.json`; returns the config written. */
export async function exportRun(target: string, outDir: string): Promise<ExportConfig> {
  const run = openRun(target);
  try {
    const { NORMALIZE } = await data();
    const encoder = run.method.encoder as { getWeights(prefix?: string): NamedTensors };
    const weights: NamedTensors = { ...encoder.getWeights("") };
    for (const [name, t] of Object.entries(run.method.getWeights())) if (name.startsWith("dilemma_head.")) weights[name] = t;
    const { preset, ...vit } = run.config.model;
    const cfg: ExportConfig = {
      format: "dilemma-export", version: 1, vit, preset, method: run.config.method, dilemma: run.config.dilemma,
      hasDilemmaHead: "dilemma_head.weight" in weights, data: run.config.data,
      normalize: { mean: Array.from(NORMALIZE.mean), std: Array.from(NORMALIZE.std) },
      source: { run: run.runDir, checkpoint: path.basename(run.ckptDir), step: run.step }, exportedAt: new Date().toISOString(),
    };
    fs.mkdirSync(outDir, { recursive: true });
    await saveWeights(outDir, "model", weights, { step: run.step });
    // "format": "pt" is the metadata PyTorch-side loaders (transformers, timm) expect.
    writeFileAtomic(path.join(outDir, "model.safetensors"), encodeSafetensors(weights, { format: "pt", dilemma_vit: JSON.stringify(vit) }));
    writeJsonAtomic(path.join(outDir, "config.json"), cfg);
    return cfg;
  } finally {
    run.method.dispose();
  }
}
