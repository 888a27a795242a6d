// Parity: the DILEMMA ViT forward and backward against the float64 PyTorch reference
// (fixture kind "vit_dilemma": cases vit_dilemma_forward_backward and vit_dense_forward).
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../../src/api.js";
import {
  DILEMMA_EMBED, DILEMMA_EMBED_GRAD, DetectionHead, FUSED_ATTENTION, FUSED_ATTENTION_GRAD, FUSED_MLP, FUSED_MLP_GRAD, GELU_ERF, GELU_ERF_GRAD, LAYER_NORM, LAYER_NORM_GRAD, ViT, bceWithLogits,
} from "../../src/model/index.js";
import { closeness, vitConfigOf, type FixtureCase } from "../util/fixtures.js";
import { registerKind } from "./index.js";

/** The case's parameters (names without a "/"), as tensors. */
export function fixtureParams(c: FixtureCase): NamedTensors {
  const out: NamedTensors = {};
  for (const n of c.names) if (!n.includes("/")) out[n] = c.tensor(n);
  return out;
}

const CUSTOM_KERNELS = [
  DILEMMA_EMBED, DILEMMA_EMBED_GRAD, GELU_ERF, GELU_ERF_GRAD, LAYER_NORM, LAYER_NORM_GRAD, FUSED_ATTENTION, FUSED_ATTENTION_GRAD, FUSED_MLP, FUSED_MLP_GRAD,
];

/** Runs `fn` with the custom kernels of the active backend unregistered: the composite path. */
function withComposites<T>(fn: () => T): T {
  const backend = tf.getBackend();
  const saved = CUSTOM_KERNELS.map((n) => tf.getKernel(n, backend)).filter((k) => k != null);
  for (const k of saved) tf.unregisterKernel(k.kernelName, backend);
  try {
    return fn();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

/** Both paths must match the reference: the backend's kernels and the tfjs composites. */
function runVitDilemma(c: FixtureCase): void {
  const errors = [compareVitDilemma(c, "kernels"), withComposites(() => compareVitDilemma(c, "composites"))].filter((e) => e);
  if (errors.length) throw new Error(errors.join("\n"));
}

function compareVitDilemma(c: FixtureCase, mode: string): string | undefined {
  const tol = c.manifest.tolerance ?? { rtol: 1e-5, atol: 1e-7 };
  const cfg = vitConfigOf(c.manifest.config.vit);
  const failures: string[] = [];
  const compared = new Set<string>();
  const check = (name: string, actual: tf.Tensor) => {
    compared.add(name);
    const r = closeness(actual.dataSync(), c.array(name), tol);
    if (!tf.util.arraysEqual(actual.shape, c.shape(name))) failures.push(`${name}: shape [${actual.shape}] vs [${c.shape(name)}]`);
    else if (!r.ok) failures.push(`${name}: ${r.message}`);
  };

  const vit = new ViT(cfg);
  const head = new DetectionHead(cfg.embedDim);
  const params = fixtureParams(c);
  try {
    vit.setWeights(params);
    head.setWeights(params, "dilemma_head.");
    tf.tidy(() => {
      const image = c.tensor("input/image") as tf.Tensor4D;
      const realPos = c.tensor("input/real_pos") as tf.Tensor2D;
      const inputPos = c.tensor("input/input_pos") as tf.Tensor2D;
      const labels = c.tensor("input/labels");
      const view = { realPos, inputPos };

      check("expected/patch_embed", vit.patchEmbed(image));
      const embed = vit.embed(image, view);
      check("expected/embed", embed);
      const out = vit.forward(image, view);
      check("expected/tokens", out.tokens);
      check("expected/cls", out.cls);
      const logits = head.logits(out.patches);
      check("expected/dilemma_logits", logits);
      check("expected/dilemma_loss", bceWithLogits(logits, labels));
      if (c.has("expected/plain_tokens")) check("expected/plain_tokens", vit.forward(image).tokens);

      // Gradients of the dilemma loss w.r.t. the image and every parameter (one backward pass).
      const vars = [...vit.params.entries(), ...[...head.params].map(([n, v]) => [`dilemma_head.${n}`, v] as const)];
      const loss = (img: tf.Tensor) => bceWithLogits(head.logits(vit.forward(img as tf.Tensor4D, view).patches), labels);
      const grads = tf.grads((img: tf.Tensor, ..._vars: tf.Tensor[]) => loss(img))([image, ...vars.map(([, v]) => v)]);
      check("grad/input/image", grads[0]);
      vars.forEach(([name], i) => check(`grad/${name}`, grads[i + 1]));
      // ... and w.r.t. the embedding output.
      check("grad/embed", tf.grad((e: tf.Tensor) => bceWithLogits(head.logits(vit.encode(e as tf.Tensor3D).patches), labels))(embed));
    });
    const missed = c.names.filter((n) => (n.startsWith("expected/") || n.startsWith("grad/")) && n !== "expected/ids_shuffle" && !compared.has(n));
    if (missed.length) failures.push(`not compared (add them to the runner): ${missed.join(", ")}`);
    return failures.length ? `${c.name} with ${mode} (rtol ${tol.rtol}, atol ${tol.atol}):\n  ${failures.join("\n  ")}` : undefined;
  } finally {
    vit.dispose();
    head.dispose();
    tf.dispose(Object.values(params));
  }
}

export function register(): void {
  registerKind("vit_dilemma", runVitDilemma);
}
