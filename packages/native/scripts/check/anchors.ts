// Every hard-coded reference number of the device check, in one place: measured elsewhere
// (PyTorch 2.11 on an H200, from the issue), so they only mean something on that card at the
// shapes named; on another card compare with the PyTorch row of the same run.

/** PyTorch 2.11 eager, bf16 autocast, H200, ViT-S/16 224 px batch 256: training images/s. */
export const THROUGHPUT_ANCHORS: Record<string, number> = { vits16: 3928, "vits16-dense-baseline": 2091 };

/** Targets on `vits16` in bf16, as a ratio to PyTorch measured in the same run. */
export const THROUGHPUT_TARGET = { first: 0.5, goal: 1.0 } as const;

/** H200 cudaMemcpy D2D bandwidth, read + write bytes, GB/s (printed next to the measured one). */
export const H200_COPY_GBPS = 4200;

/** Batch at which the embed anchors below were measured (B=256 L=196 K=49 D=384, fp32). */
export const EMBED_ANCHOR_BATCH = 256;

/**
 * PyTorch 2.11 on an H200, fp32, B=256 L=196 K=49 D=384, µs: gather+add forward, and the autograd
 * backward (forward + backward 237 µs minus the forward).
 */
export const EMBED_ANCHOR_US: Record<string, number> = { dilemmaEmbed: 69.6, dilemmaEmbedGrad: 237 - 69.6 };

/** Embed targets at that shape (embed_atomic.ts): forward >= 60% of the copy bandwidth, forward + backward >= 2x PyTorch. */
export const EMBED_TARGET = { fwdCopyFrac: 0.6, fwdBwdSpeedup: 2 } as const;
