// Launchers of the GeluErf CUDA kernels (gelu.cu), on device pointers, asynchronous on
// `stream`; they return the launch status. CPU references and argument checks: gelu.cc.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** out = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) on n float32 elements. */
cudaError_t GeluErfCuda(const float* x, float* out, int64_t n, cudaStream_t stream);

/** out = dy * (Phi(x) + x * phi(x)) on n float32 elements. */
cudaError_t GeluErfGradCuda(const float* dy, const float* x, float* out, int64_t n, cudaStream_t stream);

}  // namespace dilemma::gpu
