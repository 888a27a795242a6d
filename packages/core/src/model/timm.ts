// A ViT encoder's weights out of a timm / PyTorch state dict (e.g. read with decodeSafetensors).
// Our ViT uses timm's names and layouts with `no_embed_class=True`; a timm model whose pos_embed
// also covers the cls token (the timm default) converts exactly: the cls token's positional
// embedding is a constant added to cls_token, so it is folded into cls_token.
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../api.js";

/** What {@link timmEncoderWeights} found. */
export interface TimmEncoderWeights {
  /** The encoder's weights under its own names (new tensors: the caller disposes them). */
  weights: NamedTensors;
  /** The prefix the encoder had in the source ("" for a plain timm state dict). */
  prefix: string;
  /** Source names under that prefix that the encoder does not use (e.g. timm's `head.weight`). */
  unused: string[];
  /** True when a timm pos_embed with a cls-token row was folded into cls_token. */
  foldedClsPos: boolean;
}

/**
 * Picks the encoder weights named in `expected` (name -> shape, e.g. from `vit.params`) out of
 * `source`. The encoder may sit under a prefix (`module.base_encoder.` in MoCo v3 checkpoints,
 * `base_encoder.` in ours): the one whose `pos_embed` exists is used, preferring no prefix,
 * then a `base_encoder.` one.
 * @throws Error naming each missing weight or shape mismatch, or the ambiguity of prefixes.
 */
export function timmEncoderWeights(source: NamedTensors, expected: Record<string, readonly number[]>): TimmEncoderWeights {
  const names = Object.keys(source);
  const prefixes = names.filter((n) => n === "pos_embed" || n.endsWith(".pos_embed")).map((n) => n.slice(0, -"pos_embed".length));
  if (prefixes.length === 0) {
    throw new Error(`no ViT encoder found: no "pos_embed" among ${names.length} weights (${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}); expected timm VisionTransformer names`);
  }
  const prefix = prefixes.includes("") ? "" : prefixes.length === 1 ? prefixes[0]
    : prefixes.find((p) => p.endsWith("base_encoder.")) ?? (() => {
      throw new Error(`several encoders (weight prefixes ${prefixes.map((p) => `"${p}"`).join(", ")}); keep one of them in the file`);
    })();
  const at = (n: string): tf.Tensor | undefined => source[prefix + n];
  const problems: string[] = [];
  const weights: NamedTensors = {};
  const pos = at("pos_embed"), cls = at("cls_token");
  const numPatches = expected.pos_embed?.[1];
  const foldedClsPos = !!cls && cls.rank === 3 && pos!.rank === 3 && numPatches !== undefined &&
    pos!.shape[1] === numPatches + 1 && cls.shape[2] === pos!.shape[2];
  for (const [name, shape] of Object.entries(expected)) {
    const t = at(name);
    if (!t) { problems.push(`missing "${prefix}${name}" [${shape}]`); continue; }
    if (foldedClsPos && name === "pos_embed") weights[name] = tf.slice(t, [0, 1, 0], [-1, -1, -1]);
    else if (foldedClsPos && name === "cls_token") weights[name] = tf.tidy(() => tf.add(t, tf.slice(pos!, [0, 0, 0], [-1, 1, -1])));
    else weights[name] = tf.clone(t);
    const got = weights[name].shape;
    if (!tf.util.arraysEqual(got, shape as number[])) {
      const hint = name === "pos_embed" ? " (another image size or patch size: positional embeddings are not interpolated)" : "";
      problems.push(`"${prefix}${name}" is [${t.shape}], the model needs [${shape}]${hint}`);
    } else if (weights[name].dtype !== "float32") {
      problems.push(`"${prefix}${name}" is ${weights[name].dtype}, not a float type`);
    }
  }
  if (problems.length) {
    tf.dispose(Object.values(weights));
    throw new Error(`the weights do not fit this ViT: ${problems.slice(0, 6).join("; ")}${problems.length > 6 ? `; and ${problems.length - 6} more` : ""}`);
  }
  const unused = names.filter((n) => n.startsWith(prefix) && !(n.slice(prefix.length) in expected));
  return { weights, prefix, unused, foldedClsPos };
}
