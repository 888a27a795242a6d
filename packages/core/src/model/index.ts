// ViT, DILEMMA sampling and op, detection head and metrics, weight (de)serialisation.
export * from "./philox.js";
export * from "./sampling.js";
export * from "./ops/index.js";
export * from "./presets.js";
export { ViT, residual } from "./vit.js";
export type { DilemmaView, ViTOutput } from "./vit.js";
export { DetectionHead, bceWithLogits, detectionMetrics } from "./detection.js";
export * from "./weights.js";
export { sincosPosEmbed } from "./init.js";
export { encodeSafetensors, decodeSafetensors } from "./safetensors.js";
export { timmEncoderWeights, type TimmEncoderWeights } from "./timm.js";
