// The device runtime of the `cuda` tfjs backend as its ops see it (contract: docs/cuda-engine.md):
// buffers (cuda/buffers.h), argument parsing (cuda/args.h), and below the matMul precision and,
// with CUDA, the one stream and error checks. runtime.cc holds the runtime's own N-API functions
// (init, alloc, transfers, events, memory); cuda/allocator.h the memory behind the buffers.
#pragma once
#include "cuda/args.h"
#include "cuda/buffers.h"

#if defined(DILEMMA_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace dilemma::gpu {

/** Matrix-product precision set by setMatmulPrecision: 0 fp32, 1 tf32, 2 bf16 (src/cuda/addon.ts PRECISION). */
int MatmulPrecision();

#if defined(DILEMMA_HAVE_CUDA)
/** The backend's one stream (created by init()). Every kernel launch goes on it. */
cudaStream_t Stream();
/**
 * After a launch: when `e` (or cudaGetLastError()) is an error, throws a JS error naming `what`
 * and the CUDA error string, and returns false.
 */
bool CheckCuda(Napi::Env env, cudaError_t e, const char* what);
/**
 * Returns the caching allocator's free blocks to the driver (waits for the stream first). Ops
 * whose .cu grows its own scratch with cudaMalloc call it and retry once when that fails with
 * cudaErrorMemoryAllocation: the cache may hold the memory the scratch needs.
 */
void ReleaseCachedBlocks();
/** Grid size for n elements at `threads` per block, capped so a grid-stride loop covers the rest. */
inline unsigned GridFor(int64_t n, int threads) {
  int64_t g = (n + threads - 1) / threads;
  if (g < 1) g = 1;
  if (g > 65535 * 16) g = 65535 * 16;
  return static_cast<unsigned>(g);
}
#endif

}  // namespace dilemma::gpu
