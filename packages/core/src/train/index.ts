// SSL methods (MoCo v3, SimCLR, DINO) with DILEMMA, losses, AdamW, schedules.
export * from "./adamw.js";
export * from "./ops/adamw_update.js";
// (the op as emaUpdateOp: emaUpdate is the whole-model update in method.ts)
export { EMA_UPDATE, emaUpdate as emaUpdateOp, emaUpdateComposite, emaUpdateMulti } from "./ops/ema_update.js";
export * from "./batchnorm.js";
export * from "./ops/batch_norm.js";
export * from "./ops/batch_norm_grad.js";
export * from "./create.js";
export * from "./dino.js";
export * from "./dino_head.js";
export * from "./losses.js";
export * from "./method.js";
export * from "./mlp.js";
export * from "./mocov3.js";
export * from "./schedule.js";
export * from "./simclr.js";
