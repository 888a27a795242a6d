// BatchMatMul / _FusedMatMul: out[b] = act(op(A[b % batchA]) * op(B[b % batchB]) + bias).
// Batch indices wrap modulo each operand's batch like tfjs-backend-cpu's BatchMatMul, so the
// results match it for every broadcast tfjs allows. bias broadcasts over the last axis ([N] or
// scalar); activations follow tfjs fused_util (linear, relu, relu6, elu, sigmoid, leakyrelu).
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/gemm_blocked.h"
#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/sgemm.h"
#include "engine/threadpool.h"
#include "ref/matmul_epilogue.h"

namespace dilemma {
namespace {

// matMul(a, b, out, batchA, batchB, batchOut, M, N, K, transA, transB, bias|null, biasLen, act, alpha
//        [, idxA: Int32Array, idxB: Int32Array])  explicit operand batch per output batch (general
//        broadcasting, e.g. [2,1] x [1,3]); without them the index is the output index mod batch.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 15) {
    Napi::TypeError::New(env, "matMul: expected 15 arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int64_t batchA = IntArg(info, 3), batchB = IntArg(info, 4), batchOut = IntArg(info, 5);
  const int64_t M = IntArg(info, 6), N = IntArg(info, 7), K = IntArg(info, 8);
  const bool transA = info[9].As<Napi::Boolean>(), transB = info[10].As<Napi::Boolean>();
  const int64_t biasLen = IntArg(info, 12);
  const int act = static_cast<int>(IntArg(info, 13));
  const float alpha = static_cast<float>(NumArg(info, 14));
  const float* a = F32Arg(info, 0, batchA * M * K, "matMul a");
  if (!a) return env.Undefined();
  const float* b = F32Arg(info, 1, batchB * K * N, "matMul b");
  if (!b) return env.Undefined();
  float* out = F32Arg(info, 2, batchOut * M * N, "matMul out");
  if (!out) return env.Undefined();
  const float* bias = OptF32Arg(info, 11, biasLen, "matMul bias");
  if (env.IsExceptionPending()) return env.Undefined();

  const int32_t* idxA = nullptr;
  const int32_t* idxB = nullptr;
  if (info.Length() >= 17 && info[15].IsTypedArray() && info[16].IsTypedArray()) {
    auto ia = info[15].As<Napi::Int32Array>();
    auto ib = info[16].As<Napi::Int32Array>();
    if (static_cast<int64_t>(ia.ElementLength()) < batchOut || static_cast<int64_t>(ib.ElementLength()) < batchOut) {
      Napi::RangeError::New(env, "matMul: batch index arrays shorter than the output batch").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    idxA = ia.Data();
    idxB = ib.Data();
    for (int64_t bi = 0; bi < batchOut; ++bi) {
      if (idxA[bi] < 0 || idxA[bi] >= batchA || idxB[bi] < 0 || idxB[bi] >= batchB) {
        Napi::RangeError::New(env, "matMul: batch index out of range").ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
  }
  const int64_t lda = transA ? M : K, ldb = transB ? K : N;
  // Threading lives in our pool, BLAS runs single-threaded inside it (SetBlasThreads(1) at
  // init): one set of threads, no BLAS workers spinning against the elementwise kernels.
  // Batch invariance: 2-D products run through BlockedSgemm (gemm_blocked.h), so an output row
  // depends only on its own row of A, not on how many rows share the call (e.g. keys of one view
  // equal keys of that view computed with both). Batched products (attention) call whole matrices, whose shape does not
  // depend on the batch.
  auto matrix = [&](int64_t bi, const float** ab, const float** bb, float** ob) {
    *ab = a + (idxA ? idxA[bi] : bi % batchA) * M * K;
    *bb = b + (idxB ? idxB[bi] : bi % batchB) * K * N;
    *ob = out + bi * M * N;
  };
  if (K == 0) {
    std::fill(out, out + batchOut * M * N, 0.f);
  } else if (batchOut > 1) {
    ParallelFor(batchOut, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t bi = b0; bi < b1; ++bi) {
        const float *ab, *bb;
        float* ob;
        matrix(bi, &ab, &bb, &ob);
        Sgemm(transA, transB, M, N, K, ab, lda, bb, ldb, 0.f, ob, N);
      }
    });
  } else {
    const float *ab, *bb;
    float* ob;
    matrix(0, &ab, &bb, &ob);
    BlockedSgemm(transA, transB, M, N, K, ab, lda, bb, ldb, ob, N);
  }
  if (bias != nullptr || act != ref::kActLinear) {
    ParallelFor(batchOut * M, 64,
                [&](int64_t r0, int64_t r1) { ref::MatMulEpilogue(out, r0, r1, N, bias, biasLen, act, alpha); });
  }
  return env.Undefined();
}

// sgemmBuiltin(a, b, out, M, N, K, transA, transB): the fallback kernel, exposed for tests.
Napi::Value SgemmBuiltinNapi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t M = IntArg(info, 3), N = IntArg(info, 4), K = IntArg(info, 5);
  const bool transA = info[6].As<Napi::Boolean>(), transB = info[7].As<Napi::Boolean>();
  const float* a = F32Arg(info, 0, M * K, "sgemmBuiltin a");
  if (!a) return env.Undefined();
  const float* b = F32Arg(info, 1, K * N, "sgemmBuiltin b");
  if (!b) return env.Undefined();
  float* out = F32Arg(info, 2, M * N, "sgemmBuiltin out");
  if (!out) return env.Undefined();
  SgemmBuiltin(transA, transB, M, N, K, a, transA ? M : K, b, transB ? K : N, 0.f, out, N);
  return env.Undefined();
}

}  // namespace

void RegisterMatMul(Napi::Env env, Napi::Object exports) {
  exports.Set("matMul", Napi::Function::New(env, MatMul, "matMul"));
  exports.Set("sgemmBuiltin", Napi::Function::New(env, SgemmBuiltinNapi, "sgemmBuiltin"));
}

}  // namespace dilemma
