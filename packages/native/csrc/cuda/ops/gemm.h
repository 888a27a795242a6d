// Row-major GEMM on CUDA buffers for the fused ops (ops/fused.cc): cuBLAS on the backend's
// stream at the matMul precision, the same call ops/matmul.cc makes for one product.
#pragma once
#include <napi.h>

#include <cstdint>

namespace dilemma::gpu {

#if defined(DILEMMA_HAVE_CUDA)
/**
 * C[M,N] = op(A) op(B) for contiguous row-major matrices (A [M,K] or, transposed, [K,M]; B
 * [K,N] or [N,K]) on device pointers. On failure throws a JS error naming `what` and returns false.
 */
bool GemmCuda(Napi::Env env, const char* what, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
              const float* a, const float* b, float* c);
#endif

}  // namespace dilemma::gpu
