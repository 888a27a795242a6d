// Launchers of the LayerNorm kernels (layer_norm.cu) on device pointers; CPU reference and
// semantics: layer_norm.cc (docs/ops.md). Asynchronous on `stream`; they return the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** out = (x - mean) / sqrt(var + eps) * gamma + beta per row of [rows, d] (biased variance). */
cudaError_t layer_norm_fwd_cuda(const float* x, const float* gamma, const float* beta, float* out, int64_t rows,
                                int64_t d, float eps, cudaStream_t stream);

/**
 * dx (per row), dGamma = sum_rows dy * xhat, dBeta = sum_rows dy. The column sums are
 * deterministic: fixed row tiles (chosen from rows alone) summed in double, then the tiles in
 * order. Uses a device scratch buffer owned by layer_norm.cu (grown on demand, never freed).
 */
cudaError_t layer_norm_bwd_cuda(const float* dy, const float* x, const float* gamma, float* dx, float* dGamma,
                                float* dBeta, int64_t rows, int64_t d, float eps, cudaStream_t stream);

}  // namespace dilemma::gpu
