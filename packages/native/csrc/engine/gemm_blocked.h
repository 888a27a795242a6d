// Row-blocked GEMM on the engine's pool: C[M,N] = op(A) op(B) computed in calls of exactly
// kGemmRowBlock rows of C (a short tail is padded), the blocks split over the threads.
//
// Batch invariance: BLAS picks kernels and summation orders by a call's flags, strides, shape and
// alignment (OpenBLAS: small-matrix, direct and transposed-operand kernels), so a row's result
// could depend on how many rows share the call, e.g. keys computed for one view vs both views at
// once differed by 1e-5. Every block, full or short, is packed into the same 64-byte aligned
// scratch and multiplied by one call of identical flags, strides, shape and alignment, so each
// output row depends only on its own row of op(A); for weight gradients (A^T B over the batch)
// each output element is one call's full reduction, whatever the thread count.
#pragma once
#include <cstdint>

namespace dilemma {

constexpr int64_t kGemmRowBlock = 64;

/**
 * C = op(A) op(B) (beta 0), row-major, leading dimensions as in cblas. `splitColumns`: with few
 * row blocks, split the columns too so every thread gets work; only for products whose M does
 * not depend on the batch (weight gradients, M = a layer width), as the split depends on M.
 * Parallelises itself: call it outside ParallelFor tasks.
 */
void BlockedSgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float* C, int64_t ldc, bool splitColumns = false);

/**
 * One block of `rows` <= kGemmRowBlock rows of C = op(A) op(B), packed and multiplied as a call of
 * exactly kGemmRowBlock rows (see above). `arows` is the block's first row of op(A) (row-major A:
 * A + r0 * lda; transposed A: A + r0), `cblk` its first row of C. For kernels that run their own
 * epilogue on a block while it is in cache. padA (kGemmRowBlock * K floats) and padC
 * (kGemmRowBlock * N) must come from AllocAligned (sgemm.h): the alignment is part of the call.
 */
void SgemmRowBlock(bool transA, bool transB, int64_t rows, int64_t N, int64_t K, const float* arows, int64_t lda,
                   const float* B, int64_t ldb, float* cblk, int64_t ldc, float* padA, float* padC);

/**
 * out[j] = sum over rows of x[r, j] for row-major x [rows, cols]: double partial sums over fixed
 * 64-row blocks, then the blocks in order (deterministic for any thread count).
 */
void ColumnSums(const float* x, int64_t rows, int64_t cols, float* out);

}  // namespace dilemma
