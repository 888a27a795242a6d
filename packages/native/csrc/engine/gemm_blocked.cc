#include "engine/gemm_blocked.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "engine/sgemm.h"
#include "engine/threadpool.h"

namespace dilemma {

void SgemmRowBlock(bool transA, bool transB, int64_t rows, int64_t N, int64_t K, const float* arows, int64_t lda,
                   const float* B, int64_t ldb, float* cblk, int64_t ldc, float* padA, float* padC) {
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = padA + r * K;
    if (transA)
      for (int64_t k = 0; k < K; ++k) dst[k] = arows[k * lda + r];
    else
      std::copy(arows + r * lda, arows + r * lda + K, dst);
  }
  std::fill(padA + rows * K, padA + kGemmRowBlock * K, 0.f);
  Sgemm(false, transB, kGemmRowBlock, N, K, padA, K, B, ldb, 0.f, padC, N);
  for (int64_t r = 0; r < rows; ++r) std::copy(padC + r * N, padC + (r + 1) * N, cblk + r * ldc);
}

void BlockedSgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float* C, int64_t ldc, bool splitColumns) {
  if (M <= 0 || N <= 0) return;
  if (K == 0) {
    for (int64_t r = 0; r < M; ++r) std::fill(C + r * ldc, C + r * ldc + N, 0.f);
    return;
  }
  const int64_t rowBlocks = (M + kGemmRowBlock - 1) / kGemmRowBlock;
  // Chosen from the shape alone, so results never depend on the thread count.
  const int64_t colChunk = !splitColumns || rowBlocks >= 8 ? N : std::max<int64_t>(64, (N + 3) / 4);
  const int64_t colBlocks = (N + colChunk - 1) / colChunk;
  ParallelFor(rowBlocks * colBlocks, 1, [&](int64_t t0, int64_t t1) {
    // Per task, not per block: one allocation covers every block this thread runs.
    AlignedFloats padA = AllocAligned(kGemmRowBlock * K), padC = AllocAligned(kGemmRowBlock * colChunk);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t blk = t / colBlocks, c0 = (t % colBlocks) * colChunk;
      const int64_t r0 = blk * kGemmRowBlock, rows = std::min(kGemmRowBlock, M - r0);
      const int64_t cols = std::min(colChunk, N - c0);
      const float* arows = transA ? A + r0 : A + r0 * lda;
      const float* bcols = transB ? B + c0 * ldb : B + c0;
      SgemmRowBlock(transA, transB, rows, cols, K, arows, lda, bcols, ldb, C + r0 * ldc + c0, ldc, padA.get(),
                    padC.get());
    }
  });
}

void ColumnSums(const float* x, int64_t rows, int64_t cols, float* out) {
  const int64_t blocks = std::max<int64_t>(1, (rows + kGemmRowBlock - 1) / kGemmRowBlock);
  std::unique_ptr<double[]> part(new double[blocks * cols]());
  ParallelFor(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      double* p = part.get() + blk * cols;
      const int64_t rEnd = std::min(rows, (blk + 1) * kGemmRowBlock);
      for (int64_t r = blk * kGemmRowBlock; r < rEnd; ++r) {
        const float* xr = x + r * cols;
        for (int64_t j = 0; j < cols; ++j) p[j] += xr[j];
      }
    }
  });
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) s += part[blk * cols + j];
    out[j] = static_cast<float>(s);
  }
}

}  // namespace dilemma
