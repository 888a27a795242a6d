// Row-major single-precision GEMM: C[M,N] = op(A) * op(B) (+ beta * C), via cblas_sgemm when the
// addon was linked against a BLAS, else the built-in blocked multithreaded kernel (sgemm_ref.cc).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace dilemma {

/** lda/ldb/ldc are row strides in elements, as in cblas (row-major). */
void Sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

/** 64-byte aligned float scratch (a cache line; the widest vector loads), freed with free(). */
struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;
inline AlignedFloats AllocAligned(int64_t n) {
  const size_t bytes = ((static_cast<size_t>(n) * sizeof(float) + 63) / 64) * 64;
  return AlignedFloats(static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes)));
}

/** The built-in kernel (also the reference the BLAS path is tested against). */
void SgemmBuiltin(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

/** "openblas", "accelerate" or "builtin". */
const char* BlasName();
/** Sets BLAS threads (no-op for the built-in kernel, which uses the engine's pool). */
void SetBlasThreads(int n);
/** Threads the BLAS uses per call (1 for the built-in kernel and BLAS without a query). */
int BlasThreads();

}  // namespace dilemma
