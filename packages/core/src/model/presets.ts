import type { ViTConfig } from "../api.js";

const vit = (imgSize: number, patchSize: number, embedDim: number, depth: number, numHeads: number): ViTConfig =>
  ({ imgSize, patchSize, inChans: 3, embedDim, depth, numHeads, mlpRatio: 4 });

/**
 * Named ViT architectures. The 224/16 ones are the paper's; the 32/4 ones fit 32x32 images
 * (CIFAR-like) on a CPU; `micro32` is the small preset of the default training run.
 */
export const VIT_PRESETS: Record<string, ViTConfig> = {
  "vit-tiny": vit(224, 16, 192, 12, 3),
  "vit-small": vit(224, 16, 384, 12, 6),
  "vit-base": vit(224, 16, 768, 12, 12),
  tiny32: vit(32, 4, 192, 6, 3),
  small32: vit(32, 4, 384, 12, 6),
  micro32: vit(32, 4, 96, 4, 3),
};
