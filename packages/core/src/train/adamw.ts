// AdamW with torch.optim.AdamW semantics (amsgrad=False), state as named tensors for resume.
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../api.js";
import { assignNamed } from "../model/weights.js";
import { adamWUpdateMulti, type AdamWGroup } from "./ops/adamw_update.js";
import { variableFrom } from "./util.js";

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Which parameters get weight decay; default {@link decaysByDefault}. */
  decay?: (name: string, param: tf.Variable) => boolean;
}

/**
 * The usual ViT recipe: no weight decay on biases and norm weights (ndim <= 1), `pos_embed`
 * and `cls_token`.
 */
export function decaysByDefault(name: string, param: tf.Variable): boolean {
  return param.rank > 1 && !name.endsWith("pos_embed") && !name.endsWith("cls_token");
}

/**
 * AdamW over a named set of variables. Per parameter, with t the step count after the update:
 * `p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)`.
 * Parameters without a gradient in a step are left untouched (as torch does for `grad=None`).
 */
export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Completed steps (the `t` of the last update). */
  step = 0;
  private readonly params: Map<string, tf.Variable>;
  private readonly decays: Map<string, boolean>;
  private readonly expAvg = new Map<string, tf.Variable>();
  private readonly expAvgSq = new Map<string, tf.Variable>();

  constructor(params: Map<string, tf.Variable>, opts: AdamWOptions) {
    this.params = params;
    this.lr = opts.lr;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    const decay = opts.decay ?? decaysByDefault;
    this.decays = new Map([...params].map(([n, p]) => [n, decay(n, p)]));
    for (const [n, p] of params) {
      this.expAvg.set(n, variableFrom(tf.zerosLike(p), false));
      this.expAvgSq.set(n, variableFrom(tf.zerosLike(p), false));
    }
  }

  /** One update with `grads` keyed by parameter name; `lr` overrides the current rate. */
  apply(grads: Map<string, tf.Tensor> | NamedTensors, lr = this.lr): void {
    const get = (n: string) => (grads instanceof Map ? grads.get(n) : grads[n]);
    for (const n of grads instanceof Map ? grads.keys() : Object.keys(grads)) {
      if (!this.params.has(n)) throw new Error(`AdamW: gradient for unknown parameter "${n}"`);
    }
    this.lr = lr;
    const t = ++this.step;
    const { beta1: b1, beta2: b2, eps } = this;
    const stepSize = lr / (1 - b1 ** t);
    const sqrtBc2 = Math.sqrt(1 - b2 ** t);
    // every parameter with a gradient in one fused op (AdamWUpdate over N groups; a composite of
    // tfjs ops per parameter where no kernel); parameters without one are left untouched
    const groups: AdamWGroup[] = [];
    const state: [tf.Variable, tf.Variable, tf.Variable][] = [];
    for (const [n, param] of this.params) {
      const grad = get(n);
      if (!grad) continue;
      const m = this.expAvg.get(n)!, v = this.expAvgSq.get(n)!;
      groups.push({ param, grad, m, v, weightDecay: this.decays.get(n) ? this.weightDecay : 0 });
      state.push([param, m, v]);
    }
    tf.tidy(() => {
      adamWUpdateMulti(groups, { lr, beta1: b1, beta2: b2, eps, stepSize, sqrtBc2 }).forEach((outs, k) => {
        for (let j = 0; j < 3; j++) state[k][j].assign(outs[j]);
      });
    });
  }

  /**
   * The state: `exp_avg/<name>`, `exp_avg_sq/<name>` and the step. The tensors are the live
   * state variables (read or copy them; do not dispose them).
   */
  getState(): { step: number; tensors: NamedTensors } {
    return { step: this.step, tensors: Object.fromEntries(this.slots()) };
  }

  /** Restores a state from {@link getState}; every parameter's moments must be present. */
  setState(state: { step: number; tensors: NamedTensors }): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`AdamW.setState: step must be a non-negative integer, got ${state.step}`);
    assignNamed("AdamW.setState", this.slots(), state.tensors, { noun: "state tensors" });
    this.step = state.step;
  }

  /** The moments under their state names, parameter by parameter. */
  private slots(): Map<string, tf.Variable> {
    return new Map([...this.params.keys()].flatMap((n) => [[`exp_avg/${n}`, this.expAvg.get(n)!], [`exp_avg_sq/${n}`, this.expAvgSq.get(n)!]]));
  }

  dispose(): void {
    for (const v of [...this.expAvg.values(), ...this.expAvgSq.values()]) v.dispose();
  }
}
