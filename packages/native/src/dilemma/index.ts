/** DILEMMA kernels of @dilemma/native: tfjs kernels and the CUDA device check types. */
export { registerDilemmaKernels, unregisterDilemmaKernels, DILEMMA_EMBED, DILEMMA_EMBED_GRAD } from "./kernels.js";
export { dilemmaAddon, hasDilemmaKernels } from "./addon.js";
export type { DilemmaAddon, CudaDilemmaCheckResult, CudaDilemmaCheckRow } from "./addon.js";
