/** DILEMMA kernels of @dilemma/native: tfjs kernels, the native sampler, the CUDA device check types. */
export { registerDilemmaKernels, unregisterDilemmaKernels, DILEMMA_EMBED, DILEMMA_EMBED_GRAD } from "./kernels.js";
export { sampleDilemmaNative, type SampleDilemmaNativeArgs } from "./sample.js";
export { dilemmaAddon, hasDilemmaKernels } from "./addon.js";
export type { DilemmaAddon, CudaDilemmaCheckResult, CudaDilemmaCheckRow } from "./addon.js";
