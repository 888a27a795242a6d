// The matMul epilogue, out = act(out + bias), the scalar reference of both engines: the CPU
// engine (engine/matmul.cc) and the cuda backend's host device (cuda/ops/matmul.cc) run
// MatMulEpilogue, the CUDA kernel (cuda/ops/matmul.cu) MatMulActivate, so every device agrees,
// NaN included. Activations follow tfjs fused_util (codes: DILEMMA_ACT_OPS, op_codes.h).
#pragma once
#include <cmath>
#include <cstdint>

#include "op_codes.h"

#if defined(__CUDACC__)
#define DILEMMA_REF_HD __host__ __device__ __forceinline__
#else
#define DILEMMA_REF_HD inline
#endif

namespace dilemma::ref {

/** Activation codes of matMul (src/cuda/addon.ts ACT). */
enum MatMulAct : int { DILEMMA_ACT_OPS(DILEMMA_ACT_ENUMERATOR) };

/** Comparisons as ternaries: a NaN stays NaN through relu6, becomes 0 through relu. */
DILEMMA_REF_HD float MatMulActivate(float v, int act, float alpha) {
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

#if !defined(__CUDACC__)
/**
 * Rows [r0, r1) of out [rows, n] (row-major, in place): out[r, j] = act(out[r, j] + bias[j]),
 * bias[0] when biasLen == 1; bias may be null (activation only).
 */
inline void MatMulEpilogue(float* out, int64_t r0, int64_t r1, int64_t n, const float* bias, int64_t biasLen, int act,
                           float alpha) {
  for (int64_t r = r0; r < r1; ++r) {
    float* o = out + r * n;
    for (int64_t j = 0; j < n; ++j) {
      const float v = bias == nullptr ? o[j] : o[j] + bias[biasLen == 1 ? 0 : j];
      o[j] = MatMulActivate(v, act, alpha);
    }
  }
}
#endif

}  // namespace dilemma::ref
