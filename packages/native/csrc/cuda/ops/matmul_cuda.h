// Matrix product of the `cuda` backend: pieces shared by ops/matmul.cc (N-API entry, host
// reference, cuBLAS calls) and ops/matmul.cu (the bias + activation epilogue kernel; its
// reference: ref/matmul_epilogue.h).
#pragma once
#include <cstdint>

#if defined(DILEMMA_HAVE_CUDA) || defined(__CUDACC__)
#include <cuda_runtime_api.h>
#endif

#include "ref/matmul_epilogue.h"

namespace dilemma::gpu {

// The activation codes and MatMulActivate (shared with the CPU engine's matMul).
using ref::MatMulActivate;

#if defined(DILEMMA_HAVE_CUDA) || defined(__CUDACC__)
/**
 * out[r, j] = act(out[r, j] + bias[biasLen == 1 ? 0 : j]) over rows x n (row-major, in place);
 * bias may be null (activation only). Asynchronous on `stream`; returns the launch status.
 */
cudaError_t matmul_epilogue_cuda(float* out, int64_t rows, int64_t n, const float* bias, int64_t biasLen, int act,
                                 float alpha, cudaStream_t stream);
#endif

}  // namespace dilemma::gpu
