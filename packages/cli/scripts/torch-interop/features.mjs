#!/usr/bin/env node
/* global process, console */
// Features of an exported model computed by @dilemma/core (tfjs cpu backend, float32), for
// torch_interop.py to reproduce in PyTorch: `node features.mjs <export-dir> <out.safetensors>`.
// Reads the export's model.safetensors (not model.json), so the file PyTorch loads is the one
// checked. Writes the inputs (seeded images, one DILEMMA draw) and the outputs: dense tokens,
// sparse corrupted tokens and the detection head's logits.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { DetectionHead, ViT, decodeSafetensors, encodeSafetensors, sampleDilemma, sampleToTensors } from "@dilemma/core";

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error("usage: node features.mjs <export-dir> <out.safetensors>");
  process.exit(2);
}
await tf.setBackend("cpu");
const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
const { tensors } = decodeSafetensors(readFileSync(join(dir, "model.safetensors")));
const vit = new ViT(config.vit, { seed: 0 });
vit.setWeights(tensors);
const B = 4, S = config.vit.imgSize;
const images = tf.randomNormal([B, config.vit.inChans, S, S], 0, 1, "float32", 1234);
const dense = vit.forward(images).tokens;
const result = { images, dense_tokens: dense };
if (config.hasDilemmaHead) {
  const head = new DetectionHead(vit.embedDim, { seed: 0 });
  head.setWeights(tensors, "dilemma_head.");
  // The run's own corruption rates, at least one kept token.
  const sample = sampleDilemma({ batch: B, numPatches: vit.numPatches, tokenDrop: config.dilemma.tokenDrop,
    dilemmaProb: Math.max(config.dilemma.dilemmaProb, 0.2), rng: { seed: 7, counter: 0 } });
  const { realPos, inputPos } = sampleToTensors(sample);
  const sparse = vit.forward(images, { realPos, inputPos });
  Object.assign(result, { real_pos: realPos, input_pos: inputPos, sparse_tokens: sparse.tokens, dilemma_logits: head.logits(sparse.patches) });
}
writeFileSync(out, encodeSafetensors(result));
console.log(`features.mjs: ${Object.keys(result).join(", ")} -> ${out}`);
