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
