// The custom tfjs ops of @dilemma/core (docs/ops.md). Importing registers their CPU kernels
// and gradients.
export * from "./dilemma_embed.js";
export * from "./dilemma_embed_grad.js";
export * from "./gelu_erf.js";
export * from "./gelu_erf_grad.js";
export * from "./layer_norm.js";
export * from "./layer_norm_grad.js";
export * from "./fused_attention.js";
export * from "./fused_attention_grad.js";
export * from "./fused_mlp.js";
export * from "./fused_mlp_grad.js";
export { erf } from "./erf.js";
