// Launcher of the row softmax kernel (softmax.cu) on device pointers; CPU reference: softmax.cc.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** out[r, :] = exp(x[r, :] - max) / sum, rows x cols row-major (NaN-propagating max). Async on `stream`. */
cudaError_t softmax_cuda(const float* x, float* out, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace dilemma::gpu
