// The model in the browser: @dilemma/core's ViT + DetectionHead with a checkpoint's weights,
// giving each kept token's misplacement probability under a chosen corruption.
import * as tf from "@tensorflow/tfjs-core";
import { DetectionHead, ViT, decodeWeights } from "@dilemma/core";
import type { Positions } from "../lib/corruption.js";
import type { ViewerConfig } from "../lib/config.js";
import { fetchOk, fetchJson, type CheckpointRef } from "../lib/source.js";
import { initBackend } from "./backend.js";

export interface Detector {
  readonly label: string;
  /** Probabilities [K] for one normalised CHW image and its positions. */
  detect(pixels: Float32Array, pos: Positions): Promise<Float32Array>;
  dispose(): void;
}

const HEAD_PREFIX = "dilemma_head.";

async function readWeights(dir: string): Promise<Record<string, tf.Tensor>> {
  const json = await fetchJson<{ format?: unknown; weightsManifest?: { paths?: string[] }[] }>(`${dir}model.json`);
  const paths = (json.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
  if (paths.length === 0) throw new Error(`${dir}model.json lists no weight files`);
  const parts = await Promise.all(paths.map(async (p) => new Uint8Array(await (await fetchOk(`${dir}${p}`)).arrayBuffer())));
  // decodeWeights takes the groups' bytes back to back, as tfjs does.
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return decodeWeights(json, all.buffer);
}

function build(cfg: ViewerConfig, label: string, weights?: Record<string, tf.Tensor>, prefix = ""): Detector {
  const vit = new ViT({ ...cfg.model }, { trainable: false });
  const head = new DetectionHead(cfg.model.embedDim);
  try {
    if (weights) {
      if (!weights[`${HEAD_PREFIX}weight`]) {
        throw new Error("the checkpoint has no dilemma_head.* weights (was it trained with DILEMMA off?)");
      }
      vit.setWeights(weights, prefix);
      head.setWeights(weights, HEAD_PREFIX);
    }
  } catch (e) {
    vit.dispose();
    head.dispose();
    throw e;
  }
  const { imgSize: S, inChans: C } = cfg.model;
  return {
    label,
    async detect(pixels, pos) {
      const K = pos.realPos.length;
      const probs = tf.tidy(() => {
        const img = tf.tensor4d(pixels, [1, C, S, S]);
        const realPos = tf.tensor2d(pos.realPos, [1, K], "int32");
        const inputPos = tf.tensor2d(pos.inputPos, [1, K], "int32");
        const { patches } = vit.forward(img, { realPos, inputPos });
        return tf.sigmoid(head.logits(patches));
      });
      try {
        return Float32Array.from(await probs.data());
      } finally {
        probs.dispose();
      }
    },
    dispose() {
      vit.dispose();
      head.dispose();
    },
  };
}

/** Loads a checkpoint (or, with `ckpt` null, a randomly initialised model as a chance baseline). */
export async function loadDetector(cfg: ViewerConfig, ckpt: CheckpointRef | null): Promise<Detector> {
  await initBackend();
  if (!ckpt) return build(cfg, "untrained (random init)");
  let weights: Record<string, tf.Tensor>;
  try {
    weights = await readWeights(ckpt.dir);
  } catch (e) {
    throw new Error(`weights failed to load from ${ckpt.dir}: ${(e as Error).message}`);
  }
  try {
    return build(cfg, ckpt.label, weights, ckpt.prefix);
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
}
