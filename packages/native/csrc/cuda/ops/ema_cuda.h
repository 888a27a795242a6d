// Launcher of the fused EMA CUDA kernel (ema.cu); argument checks are in ema.cc, the CPU
// reference in ref/optim.h. Asynchronous on `stream`; returns the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** out = target + (source - target)*b over n float32 elements (b = 1-m, already float32). */
cudaError_t EmaCuda(const float* target, const float* source, float* out, int64_t n, float b,
                    cudaStream_t stream);

}  // namespace dilemma::gpu
