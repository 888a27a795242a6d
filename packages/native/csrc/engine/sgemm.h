// Row-major single-precision GEMM: C[M,N] = op(A) * op(B) (+ beta * C), via cblas_sgemm when the
// addon was linked against a BLAS, else the built-in blocked multithreaded kernel (sgemm_ref.cc).
#pragma once
#include <cstdint>

namespace dilemma {

/** lda/ldb/ldc are row strides in elements, as in cblas (row-major). */
void Sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

/**
 * C[M,N] = op(A) * op(B) with each row of C independent of M (batch invariance): the rows of
 * op(A) go, kSgemmRowBlock at a time, into a packed, aligned scratch block (row-major, zero-padded
 * tail), and every block is one single-threaded Sgemm call with identical flags, strides, shape
 * and alignment. BLAS picks kernels and summation orders by exactly those (OpenBLAS: small-matrix,
 * direct and transposed-operand kernels, K blocking of its threaded driver), so with them fixed a
 * row's result depends only on its own row of op(A), B and the machine. Blocks run on the pool.
 */
void SgemmRowBlocked(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float* C);
constexpr int64_t kSgemmRowBlock = 64;

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
