// `dilemma-cli export`: the trained encoder (timm names, no prefix) + dilemma_head.* + config.json,
// loadable by core's ViT / DetectionHead in Node or the browser, and the same tensors as
// model.safetensors for PyTorch / timm (load_state_dict) and `train --init`.
import * as fs from "node:fs";
import * as path from "node:path";
import { encodeSafetensors, type NamedTensors, type ViTConfig } from "@dilemma/core";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import { NORMALIZE } from "./data/index.js";
import { InputError } from "./errors.js";
import { Run } from "./run.js";
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

/** `p` with symlinks resolved as far as it exists (the rest appended), so aliases compare equal. */
function realish(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realish(parent), path.basename(abs));
  }
}

const within = (child: string, parent: string): boolean => child === parent || child.startsWith(parent + path.sep);

/**
 * Refuses a destination that would overwrite a run: the run itself or anything inside its
 * checkpoints, any directory holding a run or a checkpoint, and any other non-empty directory
 * that is not an earlier export (whose files an export replaces).
 */
export function checkExportDestination(runDir: string, outDir: string): void {
  const dest = realish(outDir), run = realish(runDir);
  const fix = "pick a new or empty directory, e.g. exports/<name>";
  if (dest === run) throw new InputError(`${outDir} is the run being exported; its config.json and checkpoints would be overwritten: ${fix}`);
  if (within(dest, path.join(run, "checkpoints"))) throw new InputError(`${outDir} is inside the run's checkpoints; a checkpoint's weights would be overwritten: ${fix}`);
  if (!fs.existsSync(dest)) return;
  if (!fs.statSync(dest).isDirectory()) throw new InputError(`${outDir} is a file, not a directory: ${fix}`);
  const has = (f: string) => fs.existsSync(path.join(dest, f));
  if (has("checkpoints") || has("state.json") || has("metrics.jsonl")) throw new InputError(`${outDir} holds a run or a checkpoint: ${fix}`);
  if (fs.readdirSync(dest).length === 0) return;
  let earlier = false;
  try {
    earlier = (JSON.parse(fs.readFileSync(path.join(dest, "config.json"), "utf8")) as { format?: unknown }).format === "dilemma-export";
  } catch {
    // no readable config.json: not an export
  }
  if (!earlier) throw new InputError(`${outDir} is not empty and not an earlier export (its files would be overwritten): ${fix}`);
}

/** Writes `outDir/model.json` + `weights.bin`, `model.safetensors` and `config.json`; returns the config written. */
export async function exportRun(target: string, outDir: string): Promise<ExportConfig> {
  const source = Run.open(target);
  const ckpt = source.checkpoint();
  checkExportDestination(source.dir, outDir);
  const run = source.restore(ckpt);
  try {
    const weights: NamedTensors = { ...run.method.encoder.getWeights("") };
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
