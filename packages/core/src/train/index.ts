// SSL methods (MoCo v3, SimCLR, DINO) with DILEMMA, losses, AdamW, schedules.
export * from "./adamw.js";
export * from "./batchnorm.js";
export * from "./losses.js";
export * from "./mlp.js";
export * from "./schedule.js";
