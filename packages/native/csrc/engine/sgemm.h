// Row-major single-precision GEMM: C[M,N] = op(A) * op(B) (+ beta * C), via cblas_sgemm when the
// addon was linked against a BLAS, else the built-in blocked multithreaded kernel (sgemm_ref.cc).
#pragma once
#include <cstdint>

namespace dilemma {

/** lda/ldb/ldc are row strides in elements, as in cblas (row-major). */
void Sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

/** The built-in kernel (also the reference the BLAS path is tested against). */
void SgemmBuiltin(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

/** "openblas", "accelerate" or "builtin". */
const char* BlasName();
/** Sets BLAS threads (no-op for the built-in kernel, which uses the engine's pool). */
void SetBlasThreads(int n);

}  // namespace dilemma
