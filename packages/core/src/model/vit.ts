// Vision Transformer with timm semantics (see ../../test/fixtures/README.md): conv patch
// embedding, learned (or sin-cos) pos_embed on patches only, cls token without pos embedding,
// pre-norm blocks, qkv split [3][H][hd], exact GELU, LayerNorm eps 1e-6, final norm.
// Each block is LayerNorm, FusedAttention, add, LayerNorm, FusedMlp, add (docs/ops.md): few
// large ops, on [B, N, D] throughout (no reshapes between blocks).
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors, ViTConfig } from "../api.js";
import { dilemmaEmbed } from "./ops/dilemma_embed.js";
import { fusedAttention } from "./ops/fused_attention.js";
import { fusedMlp } from "./ops/fused_mlp.js";
import { layerNorm } from "./ops/layer_norm.js";
import { sincosPosEmbed, truncNormal, xavierUniform } from "./init.js";
import { assignNamed } from "./weights.js";

const LN_EPS = 1e-6;

/**
 * The residual sum x + branch (same shapes). Under a gradient tape its gradient is dy for both
 * terms, without tfjs Add's two saved inputs (clones) and its gradient's broadcast reshapes:
 * 3 fewer kernels per residual, 48 per ViT-S step.
 */
export function residual<T extends tf.Tensor>(x: T, branch: T): T {
  if (!tf.engine().isTapeOn()) return tf.add(x, branch);
  if (!tf.util.arraysEqual(x.shape, branch.shape)) throw new Error(`residual: shapes differ, [${x.shape}] and [${branch.shape}]`);
  // a clone for the second term: the backward pass disposes accumulated gradients, so two
  // inputs must not share one gradient tensor
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.add(args[0] as tf.Tensor, args[1] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => [dy, tf.clone(dy)],
  }));
  return f(x, branch) as T;
}

/** y = x W^T + b for x [N, in], W [out, in] (PyTorch layout), b [out]. */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  // One fused kernel (bias added in the GEMM epilogue on engines that fuse it) instead of two.
  if (bias) return tf.fused.matMul({ a: x, b: weight, transposeB: true, bias }) as tf.Tensor2D;
  return tf.matMul(x, weight, false, true) as tf.Tensor2D;
}

interface BlockParams {
  norm1w: tf.Variable; norm1b: tf.Variable; qkvW: tf.Variable; qkvB: tf.Variable;
  projW: tf.Variable; projB: tf.Variable; norm2w: tf.Variable; norm2b: tf.Variable;
  fc1W: tf.Variable; fc1B: tf.Variable; fc2W: tf.Variable; fc2B: tf.Variable;
}

/** The DILEMMA view of a batch: kept patches and the positions their embeddings come from. */
export interface DilemmaView {
  /** int32 [B, K]: kept patch indices, distinct per row. */
  realPos: tf.Tensor2D;
  /** int32 [B, K]: positional-embedding index each kept token receives. */
  inputPos: tf.Tensor2D;
}

/** Encoder outputs: all final-normed tokens (cls first), the cls output and the patch outputs. */
// A type alias (not an interface) so that tf.tidy accepts it as a TensorContainer.
export type ViTOutput = {
  tokens: tf.Tensor3D;
  cls: tf.Tensor2D;
  patches: tf.Tensor3D;
};

/**
 * Vision Transformer encoder (timm `VisionTransformer`, `no_embed_class=True`, no head).
 *
 * ```ts
 * const vit = new ViT(VIT_PRESETS.micro32, { seed: 1 });
 * const { cls } = vit.forward(images);                       // dense, correct positions
 * const out = vit.forward(images, { realPos, inputPos });    // DILEMMA view (K tokens)
 * ```
 */
export class ViT {
  readonly config: ViTConfig;
  /** L = (imgSize / patchSize)^2. */
  readonly numPatches: number;
  readonly embedDim: number;
  /** Parameters under their timm names, in timm `state_dict` order. */
  readonly params: Map<string, tf.Variable>;
  private readonly blocks: BlockParams[] = [];
  private readonly gridSize: number;

  /**
   * @param config architecture (see VIT_PRESETS)
   * @param opts.seed initialisation seed (default 0): same seed, same weights
   * @param opts.trainable whether the variables are trainable (default true; false e.g. for a momentum encoder)
   */
  constructor(config: ViTConfig, opts: { seed?: number; trainable?: boolean } = {}) {
    const { imgSize, patchSize, inChans, embedDim: D, depth, numHeads, mlpRatio } = config;
    for (const [k, v] of Object.entries({ imgSize, patchSize, inChans, embedDim: D, depth, numHeads })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`ViTConfig.${k} must be a positive integer, got ${v}`);
    }
    if (imgSize % patchSize !== 0) throw new Error(`ViTConfig: imgSize ${imgSize} must be a multiple of patchSize ${patchSize}`);
    if (D % numHeads !== 0) throw new Error(`ViTConfig: embedDim ${D} must be divisible by numHeads ${numHeads}`);
    const hidden = Math.round(D * mlpRatio);
    if (!(hidden >= 1)) throw new Error(`ViTConfig: mlpRatio ${mlpRatio} gives no MLP hidden units`);
    this.config = { ...config };
    this.gridSize = imgSize / patchSize;
    this.numPatches = this.gridSize * this.gridSize;
    this.embedDim = D;

    const seed = opts.seed ?? 0;
    const trainable = opts.trainable ?? true;
    const L = this.numPatches;
    const pdim = inChans * patchSize * patchSize;
    let stream = 0;
    // Each parameter gets its own seed so adding one never shifts the others' values.
    const nextSeed = () => seed * 7919 + ++stream;
    const params = new Map<string, tf.Variable>();
    const add = (name: string, init: tf.Tensor, isTrainable = trainable) => {
      params.set(name, tf.variable(init, isTrainable));
      init.dispose();
      return params.get(name)!;
    };
    tf.tidy(() => {
      add("cls_token", truncNormal([1, 1, D], 0.02, nextSeed()));
      if (config.posEmbed === "sincos") add("pos_embed", sincosPosEmbed(this.gridSize, this.gridSize, D), false);
      else add("pos_embed", truncNormal([1, L, D], 0.02, nextSeed()));
      add("patch_embed.proj.weight", xavierUniform([D, inChans, patchSize, patchSize], D, pdim, nextSeed()));
      add("patch_embed.proj.bias", tf.zeros([D]));
      for (let i = 0; i < depth; i++) {
        const p = `blocks.${i}.`;
        this.blocks.push({
          norm1w: add(p + "norm1.weight", tf.ones([D])),
          norm1b: add(p + "norm1.bias", tf.zeros([D])),
          qkvW: add(p + "attn.qkv.weight", truncNormal([3 * D, D], 0.02, nextSeed())),
          qkvB: add(p + "attn.qkv.bias", tf.zeros([3 * D])),
          projW: add(p + "attn.proj.weight", truncNormal([D, D], 0.02, nextSeed())),
          projB: add(p + "attn.proj.bias", tf.zeros([D])),
          norm2w: add(p + "norm2.weight", tf.ones([D])),
          norm2b: add(p + "norm2.bias", tf.zeros([D])),
          fc1W: add(p + "mlp.fc1.weight", truncNormal([hidden, D], 0.02, nextSeed())),
          fc1B: add(p + "mlp.fc1.bias", tf.zeros([hidden])),
          fc2W: add(p + "mlp.fc2.weight", truncNormal([D, hidden], 0.02, nextSeed())),
          fc2B: add(p + "mlp.fc2.bias", tf.zeros([D])),
        });
      }
      add("norm.weight", tf.ones([D]));
      add("norm.bias", tf.zeros([D]));
    });
    this.params = params;
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /** Conv2d(k=p, s=p) patch embedding as tokens [B, L, D], before any positional embedding. */
  patchEmbed(images: tf.Tensor4D): tf.Tensor3D {
    const { imgSize, patchSize: p, inChans: C } = this.config;
    if (images.rank !== 4 || images.shape[1] !== C || images.shape[2] !== imgSize || images.shape[3] !== imgSize) {
      throw new Error(`ViT: images must be NCHW [B, ${C}, ${imgSize}, ${imgSize}], got [${images.shape}]`);
    }
    const B = images.shape[0];
    const g = this.gridSize;
    const D = this.embedDim;
    return tf.tidy(() => {
      // Patch (row, col) flattened in (c, i, j) order matches the OIHW conv weight.
      const patches = tf.transpose(tf.reshape(images, [B, C, g, p, g, p]), [0, 2, 4, 1, 3, 5]);
      const x = tf.reshape(patches, [B * g * g, C * p * p]) as tf.Tensor2D;
      const w = tf.reshape(this.p("patch_embed.proj.weight"), [D, C * p * p]) as tf.Tensor2D;
      return tf.reshape(linear(x, w, this.p("patch_embed.proj.bias") as tf.Tensor1D), [B, g * g, D]);
    });
  }

  /**
   * Tokens with positional embeddings, [B, N, D] (no cls). Without `view`: all L patches in
   * order plus pos_embed. With `view`: DILEMMA embedding of the kept patches (dilemmaEmbed).
   */
  embed(images: tf.Tensor4D, view?: DilemmaView): tf.Tensor3D {
    return tf.tidy(() => {
      const x = this.patchEmbed(images);
      const pos = this.p("pos_embed");
      if (!view) return tf.add(x, pos);
      return dilemmaEmbed(x, tf.reshape(pos, [this.numPatches, this.embedDim]) as tf.Tensor2D, view.realPos, view.inputPos);
    });
  }

  /** Encoder on embedded tokens [B, N, D]: prepend cls (no pos embedding), blocks, final norm. */
  encode(embedded: tf.Tensor3D): ViTOutput {
    const [B, K, D] = embedded.shape;
    if (D !== this.embedDim) throw new Error(`ViT: embedded tokens must have width ${this.embedDim}, got [${embedded.shape}]`);
    return tf.tidy((): ViTOutput => {
      const cls = tf.tile(this.p("cls_token"), [B, 1, 1]);
      let x = tf.concat([cls, embedded], 1) as tf.Tensor3D;
      for (const blk of this.blocks) x = this.block(x, blk);
      const tokens = layerNorm(x, this.p("norm.weight") as tf.Tensor1D, this.p("norm.bias") as tf.Tensor1D, LN_EPS);
      return {
        tokens,
        cls: tf.reshape(tf.slice(tokens, [0, 0, 0], [B, 1, D]), [B, D]) as tf.Tensor2D,
        patches: tf.slice(tokens, [0, 1, 0], [B, K, D]),
      };
    });
  }

  /**
   * Encoder forward. Without `view`: the plain dense path (all L tokens in order with their
   * own positions). With `view`: the DILEMMA path (K tokens, realPos content, inputPos position).
   */
  forward(images: tf.Tensor4D, view?: DilemmaView): ViTOutput {
    return tf.tidy(() => this.encode(this.embed(images, view)));
  }

  private block(x: tf.Tensor3D, blk: BlockParams): tf.Tensor3D {
    const h1 = layerNorm(x, blk.norm1w as tf.Tensor1D, blk.norm1b as tf.Tensor1D, LN_EPS);
    const attn = fusedAttention(h1, { qkvW: blk.qkvW as tf.Tensor2D, qkvB: blk.qkvB as tf.Tensor1D, projW: blk.projW as tf.Tensor2D, projB: blk.projB as tf.Tensor1D }, this.config.numHeads);
    const x1 = residual(x, attn);
    const h2 = layerNorm(x1, blk.norm2w as tf.Tensor1D, blk.norm2b as tf.Tensor1D, LN_EPS);
    return residual(x1, fusedMlp(h2, { fc1W: blk.fc1W as tf.Tensor2D, fc1B: blk.fc1B as tf.Tensor1D, fc2W: blk.fc2W as tf.Tensor2D, fc2B: blk.fc2B as tf.Tensor1D }));
  }

  /** The variables keyed `prefix + timm name` (not copies: do not dispose them). */
  getWeights(prefix = ""): NamedTensors {
    return getNamed(this.params, prefix);
  }

  /** Assigns every parameter from `weights[prefix + name]`; other entries are ignored. */
  setWeights(weights: NamedTensors, prefix = ""): void {
    setNamed(this.params, weights, prefix, "ViT");
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/** Named view of a parameter map. */
export function getNamed(params: Map<string, tf.Variable>, prefix: string): NamedTensors {
  const out: NamedTensors = {};
  for (const [name, v] of params) out[prefix + name] = v;
  return out;
}

/** Assigns each parameter from `weights[prefix + name]` (other entries are ignored). */
export function setNamed(params: Map<string, tf.Variable>, weights: NamedTensors, prefix: string, owner: string): void {
  assignNamed(`${owner}.setWeights`, new Map([...params].map(([n, v]) => [prefix + n, v])), weights, { ignoreUnknown: true });
}
