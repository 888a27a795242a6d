// Matrix product of the `cuda` backend: pieces shared by ops/matmul.cc (N-API entry, host
// reference, cuBLAS calls) and ops/matmul.cu (the bias + activation epilogue kernel).
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define DILEMMA_MM_HD __host__ __device__ __forceinline__
#else
#define DILEMMA_MM_HD inline
#endif

#if defined(DILEMMA_HAVE_CUDA) || defined(__CUDACC__)
#include <cuda_runtime_api.h>
#endif

#include "op_codes.h"

namespace dilemma::gpu {

/** Activation codes of matMul (op_codes.h; the CPU engine's codes). */
enum MatMulAct : int { DILEMMA_ACT_OPS(DILEMMA_ACT_ENUMERATOR) };

/**
 * The activation, written as the CPU engine's (engine/matmul.cc) so both devices agree, NaN
 * included: comparisons as ternaries (a NaN stays NaN through relu6, becomes 0 through relu).
 */
DILEMMA_MM_HD float MatMulActivate(float v, int act, float alpha) {
  switch (act) {
    case kActRelu: return v > 0.f ? v : 0.f;
    case kActRelu6: {
      const float r = v < 0.f ? 0.f : v;  // std::max(v, 0.f)
      return 6.f < r ? 6.f : r;           // std::min(r, 6.f)
    }
    case kActElu: return v >= 0.f ? v : expm1f(v);
    case kActSigmoid: return 1.f / (1.f + expf(-v));
    case kActLeakyRelu: return v >= 0.f ? v : alpha * v;
    default: return v;
  }
}

#if defined(DILEMMA_HAVE_CUDA) || defined(__CUDACC__)
/**
 * out[r, j] = act(out[r, j] + bias[biasLen == 1 ? 0 : j]) over rows x n (row-major, in place);
 * bias may be null (activation only). Asynchronous on `stream`; returns the launch status.
 */
cudaError_t matmul_epilogue_cuda(float* out, int64_t rows, int64_t n, const float* bias, int64_t biasLen, int act,
                                 float alpha, cudaStream_t stream);
#endif

}  // namespace dilemma::gpu
