// gpu.matMul (src/cuda/addon.ts): out[b] = act(op(A[ia]) · op(B[ib]) + bias) for b < batchOut,
// row-major, same semantics and activation codes as the CPU engine's matMul (engine/matmul.cc):
// without idxA/idxB, ia = b % batchA and ib = b % batchB; with them, the given operand indices.
//
// Host buffers: the engine's Sgemm per output matrix, then the epilogue loop (the reference).
// CUDA buffers: cuBLAS (loaded at run time) on the backend's stream, then the epilogue kernel
// (ops/matmul.cu). Both devices walk the same "runs" of the batch (PlanRuns), so the host tests
// also check the batching the CUDA path hands to cublasGemmStridedBatchedEx.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/cublas_loader.h"
#include "cuda/ops/gemm.h"
#include "cuda/ops/matmul_cuda.h"
#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#include "engine/gemm_blocked.h"
#include "engine/sgemm.h"
#include "engine/threadpool.h"

namespace dilemma::gpu {
namespace {

// A stretch of output batches [b0, b0 + count) whose operand indices step by a constant 0 or 1:
// matrix j of the run uses A[ia0 + j * dA] and B[ib0 + j * dB]. One strided-batched GEMM each.
struct Run {
  int64_t b0, count, ia0, dA, ib0, dB;
};

// Greedy split of the output batch into runs. Covers every broadcast in one or a few runs:
// equal batches (dA = dB = 1), a batch-1 operand (stride 0), batchA dividing batchOut
// (one run per wrap of b % batchA), and idx arrays such as [2,1] x [1,3] (idxA 0,0,0,1,1,1 and
// idxB 0,1,2,0,1,2: two runs with dA = 0, dB = 1). Anything irregular falls to runs of one.
template <class IA, class IB>
std::vector<Run> PlanRuns(int64_t batchOut, IA ia, IB ib) {
  std::vector<Run> runs;
  for (int64_t b = 0; b < batchOut;) {
    Run r{b, 1, ia(b), 0, ib(b), 0};
    if (b + 1 < batchOut) {
      const int64_t dA = ia(b + 1) - r.ia0, dB = ib(b + 1) - r.ib0;
      if ((dA == 0 || dA == 1) && (dB == 0 || dB == 1)) {
        r.dA = dA;
        r.dB = dB;
        while (b + r.count < batchOut && ia(b + r.count) == r.ia0 + r.count * dA &&
               ib(b + r.count) == r.ib0 + r.count * dB)
          ++r.count;
      }
    }
    runs.push_back(r);
    b += r.count;
  }
  return runs;
}

constexpr int64_t kMaxDim = 0x7fffffff;  // cuBLAS takes int sizes

// A non-negative integer argument below 2^31; throws naming it otherwise.
bool DimArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    Throw(info.Env(), std::string("matMul: ") + name + " must be a number");
    return false;
  }
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= static_cast<double>(kMaxDim) && static_cast<double>(static_cast<int64_t>(v)) == v)) {
    Throw(info.Env(), std::string("matMul: ") + name + " must be an integer in [0, 2^31), got " + std::to_string(v));
    return false;
  }
  *out = static_cast<int64_t>(v);
  return true;
}

// Element count of a product of dims, checked for overflow (in bytes it must fit size_t too).
bool Elems(Napi::Env env, std::initializer_list<int64_t> dims, const char* what, int64_t* out) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n) || n > (INT64_MAX / 4)) {
      Throw(env, std::string("matMul: ") + what + " is too large");
      return false;
    }
  }
  *out = n;
  return true;
}

// The epilogue on host memory: the reference the CUDA kernel is compared with.
void EpilogueHost(float* out, int64_t rows, int64_t n, const float* bias, int64_t biasLen, int act, float alpha) {
  ParallelFor(rows, 64,
              [&](int64_t r0, int64_t r1) { ref::MatMulEpilogue(out, r0, r1, n, bias, biasLen, act, alpha); });
}

// Row-major products of one run with the engine's Sgemm (cblas row-major conventions).
void RunHost(const Run& r, bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* a, const float* b,
             float* out) {
  const int64_t lda = transA ? M : K, ldb = transB ? K : N;
  auto mat = [&](int64_t j, const float** ab, const float** bb, float** ob) {
    *ab = a + (r.ia0 + j * r.dA) * M * K;
    *bb = b + (r.ib0 + j * r.dB) * K * N;
    *ob = out + (r.b0 + j) * M * N;
  };
  if (r.count > 1) {
    ParallelFor(r.count, 1, [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) {
        const float *ab, *bb;
        float* ob;
        mat(j, &ab, &bb, &ob);
        Sgemm(transA, transB, M, N, K, ab, lda, bb, ldb, 0.f, ob, N);
      }
    });
    return;
  }
  // One matrix: its row blocks are split over the pool.
  const float *ab, *bb;
  float* ob;
  mat(0, &ab, &bb, &ob);
  // Batch invariance, as in engine/matmul.cc: a row's result depends only on its row of A.
  BlockedSgemm(transA, transB, M, N, K, ab, lda, bb, ldb, ob, N);
}

#if defined(DILEMMA_HAVE_CUDA)
// One cuBLAS handle for the process, created on first use (after init(): it binds to the current
// device) and bound to the backend's stream. Never destroyed: process exit tears the context
// down, and destroying after that would crash.
cublas::Handle g_handle = nullptr;
cudaStream_t g_handleStream = nullptr;

const cublas::Api* CublasFor(Napi::Env env, cublas::Handle* handle) {
  const cublas::LoadResult& lib = cublas::Load();
  if (lib.api == nullptr) {
    Throw(env, "matMul: matrix products on cuda buffers need cuBLAS, which could not be loaded: " + lib.error);
    return nullptr;
  }
  const cublas::Api* api = lib.api;
  if (g_handle == nullptr) {
    cublas::Handle h = nullptr;
    const int st = api->create(&h);
    if (st != cublas::kSuccess) {
      Throw(env, "matMul: cublasCreate failed (" + lib.library + "): " + cublas::StatusName(st));
      return nullptr;
    }
    // Default math: precision is chosen per call by the compute type (MatmulPrecision()), so a
    // plain fp32 product never silently runs on TF32 tensor cores.
    const int mm = api->setMathMode(h, cublas::kDefaultMath);
    if (mm != cublas::kSuccess) {
      api->destroy(h);
      Throw(env, "matMul: cublasSetMathMode failed: " + cublas::StatusName(mm));
      return nullptr;
    }
    g_handle = h;
    g_handleStream = nullptr;
  }
  if (g_handleStream != Stream() || g_handleStream == nullptr) {
    const int st = api->setStream(g_handle, Stream());
    if (st != cublas::kSuccess) {
      Throw(env, "matMul: cublasSetStream failed: " + cublas::StatusName(st));
      return nullptr;
    }
    g_handleStream = Stream();
  }
  *handle = g_handle;
  return api;
}

cublas::ComputeType ComputeTypeFor(int precision) {
  switch (precision) {
    case 1: return cublas::kCompute32FFastTF32;
    case 2: return cublas::kCompute32FFast16BF;
    default: return cublas::kCompute32F;
  }
}

// One run as a column-major cuBLAS call. A row-major [r, c] matrix with row stride ld is, read
// column-major, its transpose [c, r] with leading dimension ld. So the row-major C [M, N]
// (ldc = N) is the column-major C^T [N, M], and we compute C^T = op(B)^T · op(A)^T
// (cuBLAS m = N, n = M, k = K):
//   first operand op(B)^T [N, K] from B's memory:
//     transB = false: B is row-major [K, N] -> column-major B^T [N, K], ld N: no transpose,
//                     lda' = N (>= m = N).
//     transB = true:  B is row-major [N, K] (op(B) = B^T) -> column-major view [K, N], ld K;
//                     op(B)^T = B is that view transposed: CUBLAS_OP_T, lda' = K (>= k).
//   second operand op(A)^T [K, M] from A's memory:
//     transA = false: A is row-major [M, K] -> column-major A^T [K, M], ld K: no transpose,
//                     ldb' = K (>= k).
//     transA = true:  A is row-major [K, M] (op(A) = A^T) -> column-major view [M, K], ld M;
//                     op(A)^T = A is that view transposed: CUBLAS_OP_T, ldb' = M (>= n = M).
// i.e. ld of B's memory = transB ? K : N and of A's = transA ? M : K, as in the row-major
// (cblas) call. Batch strides in elements: B's matrix advances by dB * K * N, A's by dA * M * K
// (0 = the same matrix for every product of the run), C's by M * N.
int RunCuda(const cublas::Api* api, cublas::Handle h, cublas::ComputeType ct, const Run& r, bool transA, bool transB,
            int64_t M, int64_t N, int64_t K, const float* a, const float* b, float* out) {
  const float one = 1.f, zero = 0.f;
  const int64_t lda = transA ? M : K, ldb = transB ? K : N;
  const float* aMat = a + r.ia0 * M * K;
  const float* bMat = b + r.ib0 * K * N;
  float* cMat = out + r.b0 * M * N;
  const cublas::Operation opFirst = transB ? cublas::kOpT : cublas::kOpN;
  const cublas::Operation opSecond = transA ? cublas::kOpT : cublas::kOpN;
  if (r.count == 1) {
    return api->gemmEx(h, opFirst, opSecond, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &one,
                       bMat, cublas::kR32F, static_cast<int>(ldb), aMat, cublas::kR32F, static_cast<int>(lda), &zero,
                       cMat, cublas::kR32F, static_cast<int>(N), ct, cublas::kGemmDefault);
  }
  return api->gemmStridedBatchedEx(h, opFirst, opSecond, static_cast<int>(N), static_cast<int>(M),
                                   static_cast<int>(K), &one, bMat, cublas::kR32F, static_cast<int>(ldb),
                                   static_cast<long long>(r.dB * K * N), aMat, cublas::kR32F, static_cast<int>(lda),
                                   static_cast<long long>(r.dA * M * K), &zero, cMat, cublas::kR32F,
                                   static_cast<int>(N), static_cast<long long>(M * N), static_cast<int>(r.count), ct,
                                   cublas::kGemmDefault);
}
#endif

// matMul(a, b, out, batchA, batchB, batchOut, m, n, k, transA, transB, bias, biasLen, act, alpha[, idxA, idxB])
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 15) return Throw(env, "matMul: expected 15 arguments (17 with idxA, idxB)");
  int64_t batchA, batchB, batchOut, M, N, K, biasLen;
  if (!DimArg(info, 3, "batchA", &batchA) || !DimArg(info, 4, "batchB", &batchB) ||
      !DimArg(info, 5, "batchOut", &batchOut) || !DimArg(info, 6, "m", &M) || !DimArg(info, 7, "n", &N) ||
      !DimArg(info, 8, "k", &K) || !DimArg(info, 12, "biasLen", &biasLen))
    return env.Undefined();
  const bool transA = info[9].ToBoolean().Value(), transB = info[10].ToBoolean().Value();
  if (!info[13].IsNumber()) return Throw(env, "matMul: act must be a number");
  const int act = info[13].As<Napi::Number>().Int32Value();
  if (act < ref::kActLinear || act > ref::kActLeakyRelu)
    return Throw(env, "matMul: unknown activation code " + std::to_string(act) + " (ACT: 0..5)");
  const float alpha = static_cast<float>(info[14].IsNumber() ? info[14].As<Napi::Number>().DoubleValue() : 0.0);
  if (batchOut > 0 && (batchA == 0 || batchB == 0)) return Throw(env, "matMul: batchA and batchB must be >= 1");

  int64_t nA, nB, nOut;
  if (!Elems(env, {batchA, M, K}, "a", &nA) || !Elems(env, {batchB, K, N}, "b", &nB) ||
      !Elems(env, {batchOut, M, N}, "out", &nOut))
    return env.Undefined();
  Buf* a = BufArg(info, 0, static_cast<size_t>(nA) * 4, "matMul a");
  if (a == nullptr) return env.Undefined();
  Buf* b = BufArg(info, 1, static_cast<size_t>(nB) * 4, "matMul b");
  if (b == nullptr) return env.Undefined();
  Buf* out = BufArg(info, 2, static_cast<size_t>(nOut) * 4, "matMul out");
  if (out == nullptr) return env.Undefined();
  Buf* bias = OptBufArg(info, 11, static_cast<size_t>(biasLen) * 4, "matMul bias");
  if (env.IsExceptionPending()) return env.Undefined();
  if (bias != nullptr && biasLen != 1 && biasLen != N)
    return Throw(env, "matMul: biasLen must be 1 or n (" + std::to_string(N) + "), got " + std::to_string(biasLen));
  if (out == a || out == b || (bias != nullptr && out == bias))
    return Throw(env, "matMul: out must not be an input buffer");
  Where where;
  if (!SameDevice(info, "matMul", {a, b, out, bias}, &where)) return env.Undefined();

  // Operand batch indices: explicit (general broadcasting) or the output index mod each batch.
  const int32_t* idxA = nullptr;
  const int32_t* idxB = nullptr;
  const bool hasIdx = info.Length() >= 17 && !info[15].IsUndefined() && !info[15].IsNull();
  if (hasIdx) {
    auto isI32 = [&](size_t i) {
      return info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
    };
    if (!isI32(15) || !isI32(16)) return Throw(env, "matMul: idxA and idxB must both be Int32Arrays");
    auto ia = info[15].As<Napi::Int32Array>();
    auto ib = info[16].As<Napi::Int32Array>();
    if (static_cast<int64_t>(ia.ElementLength()) < batchOut || static_cast<int64_t>(ib.ElementLength()) < batchOut)
      return Throw(env, "matMul: idxA/idxB are shorter than batchOut (" + std::to_string(batchOut) + ")");
    idxA = ia.Data();
    idxB = ib.Data();
    for (int64_t i = 0; i < batchOut; ++i) {
      if (idxA[i] < 0 || idxA[i] >= batchA || idxB[i] < 0 || idxB[i] >= batchB)
        return Throw(env, "matMul: idxA[" + std::to_string(i) + "]=" + std::to_string(idxA[i]) + " / idxB[" +
                              std::to_string(i) + "]=" + std::to_string(idxB[i]) + " out of [0, batchA=" +
                              std::to_string(batchA) + ") / [0, batchB=" + std::to_string(batchB) + ")");
    }
  }
  if (nOut == 0) return env.Undefined();

  std::vector<Run> runs;
  if (K > 0) {
    auto ia = [&](int64_t i) -> int64_t { return idxA ? idxA[i] : i % batchA; };
    auto ib = [&](int64_t i) -> int64_t { return idxB ? idxB[i] : i % batchB; };
    runs = PlanRuns(batchOut, ia, ib);
  }
  const float* biasPtr = bias != nullptr ? bias->f() : nullptr;
  const bool epilogue = biasPtr != nullptr || act != ref::kActLinear;

  if (where == Where::kHost) {
    if (K == 0) std::fill(out->f(), out->f() + nOut, 0.f);  // empty sum; bias/act still apply
    for (const Run& r : runs) RunHost(r, transA, transB, M, N, K, a->f(), b->f(), out->f());
    if (epilogue) EpilogueHost(out->f(), batchOut * M, N, biasPtr, biasLen, act, alpha);
    return env.Undefined();
  }

#if defined(DILEMMA_HAVE_CUDA)
  if (K == 0) {
    // cuBLAS rejects lda = k = 0: the product of empty sums is zeros.
    if (!CheckCuda(env, cudaMemsetAsync(out->ptr, 0, static_cast<size_t>(nOut) * 4, Stream()), "matMul (k = 0)"))
      return env.Undefined();
  } else {
    cublas::Handle h = nullptr;
    const cublas::Api* api = CublasFor(env, &h);
    if (api == nullptr) return env.Undefined();
    const cublas::ComputeType ct = ComputeTypeFor(MatmulPrecision());
    for (const Run& r : runs) {
      const int st = RunCuda(api, h, ct, r, transA, transB, M, N, K, a->f(), b->f(), out->f());
      if (st != cublas::kSuccess) {
        return Throw(env, std::string("matMul: ") + (r.count == 1 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx") +
                              " failed: " + cublas::StatusName(st) + " (m=" + std::to_string(M) + " n=" +
                              std::to_string(N) + " k=" + std::to_string(K) + " batch=" + std::to_string(r.count) +
                              " transA=" + (transA ? "1" : "0") + " transB=" + (transB ? "1" : "0") + ")");
      }
    }
  }
  if (epilogue &&
      !CheckCuda(env, matmul_epilogue_cuda(out->f(), batchOut * M, N, biasPtr, biasLen, act, alpha, Stream()),
                 "matMul epilogue"))
    return env.Undefined();
  return env.Undefined();
#else
  return Throw(env, "matMul: cuda buffers, but the addon was built without CUDA");
#endif
}

}  // namespace

#if defined(DILEMMA_HAVE_CUDA)
bool GemmCuda(Napi::Env env, const char* what, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
              const float* a, const float* b, float* c) {
  if (M <= 0 || N <= 0) return true;
  if (K <= 0) return CheckCuda(env, cudaMemsetAsync(c, 0, static_cast<size_t>(M * N) * 4, Stream()), what);
  if (M > kMaxDim || N > kMaxDim || K > kMaxDim) {
    Throw(env, std::string(what) + ": matrix dimensions must be below 2^31");
    return false;
  }
  cublas::Handle h = nullptr;
  const cublas::Api* api = CublasFor(env, &h);
  if (api == nullptr) return false;
  const int st = RunCuda(api, h, ComputeTypeFor(MatmulPrecision()), Run{0, 1, 0, 0, 0, 0}, transA, transB, M, N, K, a,
                         b, c);
  if (st != cublas::kSuccess) {
    Throw(env, std::string(what) + ": cublasGemmEx failed: " + cublas::StatusName(st) + " (m=" + std::to_string(M) +
                   " n=" + std::to_string(N) + " k=" + std::to_string(K) + ")");
    return false;
  }
  return true;
}
#endif

void RegisterMatMul(Napi::Env env, Napi::Object gpu) {
  gpu.Set("matMul", Napi::Function::New(env, MatMul, "matMul"));
}

}  // namespace dilemma::gpu
