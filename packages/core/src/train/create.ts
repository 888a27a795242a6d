// createMethod and defaultMethodConfig: the entry points of the train module.
import type { MethodConfig, SSLMethod, ViTConfig } from "../api.js";
import { VIT_PRESETS } from "../model/index.js";
import { DINO } from "./dino.js";
import { MoCoV3 } from "./mocov3.js";
import { SimCLR } from "./simclr.js";

/** A partial configuration: nested `vit`, `optim` and `dino` may be partial too. */
export type PartialMethodConfig = Partial<Omit<MethodConfig, "vit" | "optim" | "dino">> & {
  vit?: Partial<ViTConfig>;
  optim?: Partial<MethodConfig["optim"]>;
  dino?: Partial<NonNullable<MethodConfig["dino"]>>;
};

/**
 * Fills a configuration with defaults: MoCo v3 + DILEMMA (tokenDrop 0.75, dilemmaProb 0.2,
 * lambda 1) on the `micro32` ViT, projector 1024/256, temperature 0.2 (SimCLR: 0.5), EMA
 * momentum 0.99 (DINO: 0.996), DINO temperatures 0.1 / 0.04, AdamW lr 5e-4, wd 0.05,
 * betas (0.9, 0.999), cosine schedule over 1000 steps with 10 warm-up steps.
 */
export function defaultMethodConfig(partial: PartialMethodConfig = {}): MethodConfig {
  const method = partial.method ?? "mocov3";
  return {
    method,
    vit: { ...VIT_PRESETS.micro32, ...partial.vit },
    tokenDrop: partial.tokenDrop ?? 0.75,
    dilemmaProb: partial.dilemmaProb ?? 0.2,
    dilemmaWeight: partial.dilemmaWeight ?? 1,
    headHidden: partial.headHidden ?? 1024,
    headOut: partial.headOut ?? 256,
    temperature: partial.temperature ?? (method === "simclr" ? 0.5 : 0.2),
    momentum: partial.momentum ?? (method === "dino" ? 0.996 : 0.99),
    dino: { studentTemp: 0.1, teacherTemp: 0.04, warmupTeacherTemp: 0.04, warmupTeacherSteps: 0, centerMomentum: 0.9, ...partial.dino },
    optim: { lr: 5e-4, weightDecay: 0.05, warmupSteps: 10, totalSteps: 1000, minLr: 0, betas: [0.9, 0.999], eps: 1e-8, ...partial.optim },
    seed: partial.seed ?? 0,
  };
}

/**
 * The SSL method named by `config.method`, with DILEMMA as configured: dilemmaProb 0 and
 * tokenDrop 0 give the plain method; tokenDrop > 0 with dilemmaProb 0 the sparse method
 * without corruption (no detection head or loss).
 */
export function createMethod(config: MethodConfig): SSLMethod {
  switch (config.method) {
    case "mocov3": return new MoCoV3(config);
    case "simclr": return new SimCLR(config);
    case "dino": return new DINO(config);
    default: throw new Error(`createMethod: unknown method "${(config as { method: string }).method}" (mocov3, simclr, dino)`);
  }
}
