// Built-in SGEMM used when no BLAS is available (and as the reference for the BLAS path):
// operands are packed to row-major A[M,K], B[K,N], then rows of C are split over the pool and
// computed in k/n blocks that stay in L1/L2; the inner loop is contiguous so -O3 vectorizes it.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/sgemm.h"
#include "engine/threadpool.h"

namespace dilemma {

void SgemmBuiltin(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  std::vector<float> packA, packB;
  const float* a = A;
  int64_t sa = lda;
  if (transA) {  // A is stored [K, M]
    packA.resize(M * K);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < M; ++i) packA[i * K + k] = A[k * lda + i];
    a = packA.data();
    sa = K;
  }
  const float* b = B;
  int64_t sb = ldb;
  if (transB) {  // B is stored [N, K]
    packB.resize(K * N);
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) packB[k * N + j] = B[j * ldb + k];
    b = packB.data();
    sb = N;
  }
  constexpr int64_t KB = 128, NB = 512;
  ParallelFor(M, 4, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float* c = C + i * ldc;
      if (beta == 0.f)
        std::memset(c, 0, sizeof(float) * N);
      else if (beta != 1.f)
        for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    for (int64_t n0 = 0; n0 < N; n0 += NB) {
      const int64_t n1 = std::min(N, n0 + NB);
      for (int64_t k0 = 0; k0 < K; k0 += KB) {
        const int64_t k1 = std::min(K, k0 + KB);
        for (int64_t i = i0; i < i1; ++i) {
          float* __restrict c = C + i * ldc;
          const float* ar = a + i * sa;
          for (int64_t k = k0; k < k1; ++k) {
            const float av = ar[k];
            const float* __restrict br = b + k * sb;
            for (int64_t j = n0; j < n1; ++j) c[j] += av * br[j];
          }
        }
      }
    }
  });
}

}  // namespace dilemma
