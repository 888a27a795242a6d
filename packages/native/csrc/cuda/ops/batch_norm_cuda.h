// Launchers of the BatchNorm1d kernels (batch_norm.cu) on device pointers; CPU reference and
// semantics: ref/batch_norm.h (docs/ops.md). Asynchronous on `stream`; they return the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** y [B, C] and the new running statistics; weight and bias nullptr for affine=False. */
cudaError_t batch_norm_fwd_cuda(const float* x, const float* weight, const float* bias, const float* runningMean,
                                const float* runningVar, float* y, float* runningMeanOut, float* runningVarOut,
                                int64_t B, int64_t C, double eps, double momentum, cudaStream_t stream);

/** dx [B, C]; dWeight and dBias [C] when weight is given (deterministic: no atomics). */
cudaError_t batch_norm_bwd_cuda(const float* dy, const float* x, const float* weight, float* dx, float* dWeight,
                                float* dBias, int64_t B, int64_t C, double eps, cudaStream_t stream);

}  // namespace dilemma::gpu
