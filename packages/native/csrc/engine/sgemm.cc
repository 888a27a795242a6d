#include "engine/sgemm.h"

#if defined(DILEMMA_HAVE_CBLAS)
#if defined(DILEMMA_ACCELERATE)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
#endif

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "engine/threadpool.h"

namespace dilemma {

const char* BlasName() { return DILEMMA_BLAS_NAME; }

void SetBlasThreads(int n) {
#if defined(DILEMMA_OPENBLAS)
  openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

int BlasThreads() {
#if defined(DILEMMA_OPENBLAS)
  return openblas_get_num_threads();
#else
  return 1;
#endif
}

namespace {
// 64-byte aligned float scratch (a cache line; the widest vector loads), freed with free().
struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;
AlignedFloats AllocAligned(int64_t n) {
  const size_t bytes = ((static_cast<size_t>(n) * sizeof(float) + 63) / 64) * 64;
  return AlignedFloats(static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes)));
}
}  // namespace

void SgemmRowBlocked(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float* C) {
  constexpr int64_t R = kSgemmRowBlock;
  ParallelFor((M + R - 1) / R, 1, [&](int64_t k0, int64_t k1) {
    // Per task, not per block: one allocation covers every block this thread runs.
    AlignedFloats packA = AllocAligned(R * K), packC = AllocAligned(R * N);
    for (int64_t blk = k0; blk < k1; ++blk) {
      const int64_t r0 = blk * R, rows = std::min(R, M - r0);
      // Rows r0.. of op(A): row-major A advances by lda per row; transposed A by a column.
      for (int64_t r = 0; r < rows; ++r) {
        float* dst = packA.get() + r * K;
        if (transA)
          for (int64_t k = 0; k < K; ++k) dst[k] = A[k * lda + r0 + r];
        else
          std::copy(A + (r0 + r) * lda, A + (r0 + r) * lda + K, dst);
      }
      std::fill(packA.get() + rows * K, packA.get() + R * K, 0.f);
      Sgemm(false, transB, R, N, K, packA.get(), K, B, ldb, 0.f, packC.get(), N);
      std::copy(packC.get(), packC.get() + rows * N, C + r0 * N);
    }
  });
}

void Sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
#if defined(DILEMMA_HAVE_CBLAS)
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, (int)M, (int)N,
              (int)K, 1.0f, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
#else
  SgemmBuiltin(transA, transB, M, N, K, A, lda, B, ldb, beta, C, ldc);
#endif
}

}  // namespace dilemma
