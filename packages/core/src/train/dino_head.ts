// DINO projection head: MLP -> l2-normalise -> weight-normalised last linear.
import * as tf from "@tensorflow/tfjs-core";
import { geluErf } from "../model/index.js";
import { linear } from "../model/vit.js";
import { l2Normalize } from "./losses.js";
import { linearWeight } from "./mlp.js";
import { variableFrom } from "./util.js";

/**
 * DINO's `DINOHead` (nlayers 3, no BN, norm_last_layer): `mlp` = Linear(in, hidden) -> GELU ->
 * Linear(hidden, hidden) -> GELU -> Linear(hidden, bottleneck); then l2-normalise; then
 * `last_layer` = weight-normalised Linear(bottleneck, out, no bias) with the gain fixed to 1,
 * i.e. each output row of `last_layer.weight_v` is used divided by its norm.
 * Names: `mlp.0.weight`, `mlp.0.bias`, `mlp.2.*`, `mlp.4.*`, `last_layer.weight_v` ([out, in]).
 */
export class DinoHead {
  readonly params: Map<string, tf.Variable>;

  constructor(inDim: number, hidden: number, bottleneck: number, outDim: number, opts: { seed?: number; trainable?: boolean } = {}) {
    const seed = opts.seed ?? 0;
    const trainable = opts.trainable ?? true;
    const dims: [number, number][] = [[hidden, inDim], [hidden, hidden], [bottleneck, hidden]];
    this.params = new Map();
    dims.forEach(([o, i], l) => {
      this.params.set(`mlp.${2 * l}.weight`, linearWeight(o, i, seed + l, trainable));
      this.params.set(`mlp.${2 * l}.bias`, variableFrom(tf.zeros([o]), trainable));
    });
    this.params.set("last_layer.weight_v", linearWeight(outDim, bottleneck, seed + 3, trainable));
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const p = (n: string) => this.params.get(n)!;
      let h = x;
      for (let l = 0; l < 3; l++) {
        h = linear(h, p(`mlp.${2 * l}.weight`) as tf.Tensor2D, p(`mlp.${2 * l}.bias`) as tf.Tensor1D);
        if (l < 2) h = geluErf(h);
      }
      const w = l2Normalize(p("last_layer.weight_v") as tf.Tensor2D);
      return linear(l2Normalize(h), w);
    });
  }
}
