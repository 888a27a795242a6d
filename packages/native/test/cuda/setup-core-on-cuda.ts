// Runs before core's test/setup.ts in the "core-on-cuda" project (vitest.config.ts): core's whole
// suite (fixtures, gradients, leak tests) on the cuda backend over the addon's host device, with
// fallbacks forbidden so every kernel it uses is the backend's own.
import { cudaUnavailableReason, registerCudaBackend } from "../../src/index.js";

if (!registerCudaBackend({ device: "host" })) {
  throw new Error(`core-on-cuda: the cuda backend is unavailable: ${cudaUnavailableReason()}`);
}
process.env.DILEMMA_CUDA_STRICT = "1";
process.env.DILEMMA_TEST_BACKEND = "cuda";
