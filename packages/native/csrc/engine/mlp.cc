// FusedMlp / FusedMlpGrad (docs/ops.md) on the CPU engine. The forward runs the whole MLP per
// 64-row block in one task: fc1 (BLAS), bias + GELU while the block's hidden activations are in
// cache, fc2 (BLAS) + bias. The backward does the same per block for dy W2 -> GELU' -> dPre W1,
// then the weight gradients as row-blocked BLAS reductions over all rows.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine/fused.h"
#include "engine/gelu_erf.h"
#include "engine/gemm_blocked.h"
#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/sgemm.h"
#include "engine/threadpool.h"

namespace dilemma {

void MlpForward(const float* x, const float* fc1W, const float* fc1B, const float* fc2W, const float* fc2B, float* out,
                float* pre, float* act, int64_t rows, int64_t D, int64_t Hd) {
  const int64_t blocks = (rows + kGemmRowBlock - 1) / kGemmRowBlock;
  const bool keep = pre != nullptr;
  ParallelFor(blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> hidden(keep ? 0 : 2 * kGemmRowBlock * Hd);
    AlignedFloats padA = AllocAligned(kGemmRowBlock * std::max(D, Hd)), padC = AllocAligned(kGemmRowBlock * std::max(D, Hd));
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t r0 = blk * kGemmRowBlock, n = std::min(kGemmRowBlock, rows - r0);
      float* p = keep ? pre + r0 * Hd : hidden.data();
      float* a = keep ? act + r0 * Hd : hidden.data() + kGemmRowBlock * Hd;
      float* o = out + r0 * D;
      SgemmRowBlock(false, true, n, Hd, D, x + r0 * D, D, fc1W, D, p, Hd, padA.get(), padC.get());
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < Hd; ++j) p[r * Hd + j] += fc1B[j];
      GeluErfRows(p, a, n * Hd);
      SgemmRowBlock(false, true, n, D, Hd, a, Hd, fc2W, Hd, o, D, padA.get(), padC.get());
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < D; ++j) o[r * D + j] += fc2B[j];
    }
  });
}

void MlpBackward(const float* dy, const float* x, const float* fc1W, const float* fc2W, const float* pre,
                 const float* act, float* dx, float* dFc1W, float* dFc1B, float* dFc2W, float* dFc2B, int64_t rows,
                 int64_t D, int64_t Hd) {
  std::unique_ptr<float[]> dPre(new float[rows * Hd]);
  const int64_t blocks = (rows + kGemmRowBlock - 1) / kGemmRowBlock;
  ParallelFor(blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> dAct(kGemmRowBlock * Hd);
    AlignedFloats padA = AllocAligned(kGemmRowBlock * std::max(D, Hd)), padC = AllocAligned(kGemmRowBlock * std::max(D, Hd));
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t r0 = blk * kGemmRowBlock, n = std::min(kGemmRowBlock, rows - r0);
      float* dp = dPre.get() + r0 * Hd;
      SgemmRowBlock(false, false, n, Hd, D, dy + r0 * D, D, fc2W, Hd, dAct.data(), Hd, padA.get(), padC.get());
      GeluErfGradRows(dAct.data(), pre + r0 * Hd, dp, n * Hd);
      SgemmRowBlock(false, false, n, D, Hd, dp, Hd, fc1W, D, dx + r0 * D, D, padA.get(), padC.get());
    }
  });
  BlockedSgemm(true, false, D, Hd, rows, dy, D, act, Hd, dFc2W, Hd, true);           // dW2 = dy^T act
  BlockedSgemm(true, false, Hd, D, rows, dPre.get(), Hd, x, D, dFc1W, D, true);      // dW1 = dPre^T x
  ColumnSums(dy, rows, D, dFc2B);
  ColumnSums(dPre.get(), rows, Hd, dFc1B);
}

namespace {

bool Dims(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t* rows, int64_t* D, int64_t* Hd) {
  *rows = IntArg(info, i);
  *D = IntArg(info, i + 1);
  *Hd = IntArg(info, i + 2);
  if (*rows < 0 || *D < 1 || *Hd < 1) {
    Napi::RangeError::New(info.Env(), std::string(what) + ": rows must be >= 0, D and Hd positive")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// mlp(x, fc1W, fc1B, fc2W, fc2B, out, pre, act, rows, D, Hd)
Napi::Value Mlp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t R, D, Hd;
  if (!Dims(info, 8, "mlp", &R, &D, &Hd)) return env.Undefined();
  const float* x = F32Arg(info, 0, R * D, "mlp x");
  if (!x) return env.Undefined();
  const float* fc1W = F32Arg(info, 1, Hd * D, "mlp fc1W");
  if (!fc1W) return env.Undefined();
  const float* fc1B = F32Arg(info, 2, Hd, "mlp fc1B");
  if (!fc1B) return env.Undefined();
  const float* fc2W = F32Arg(info, 3, D * Hd, "mlp fc2W");
  if (!fc2W) return env.Undefined();
  const float* fc2B = F32Arg(info, 4, D, "mlp fc2B");
  if (!fc2B) return env.Undefined();
  float* out = F32Arg(info, 5, R * D, "mlp out");
  if (!out) return env.Undefined();
  // pre and act: both, or both null (inference).
  float* pre = OptF32Arg(info, 6, R * Hd, "mlp pre");
  float* act = OptF32Arg(info, 7, R * Hd, "mlp act");
  if (env.IsExceptionPending()) return env.Undefined();
  if ((pre == nullptr) != (act == nullptr)) {
    Napi::TypeError::New(env, "mlp: pre and act must both be Float32Arrays or both null").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  MlpForward(x, fc1W, fc1B, fc2W, fc2B, out, pre, act, R, D, Hd);
  return env.Undefined();
}

// mlpGrad(dy, x, fc1W, fc2W, pre, act, dx, dFc1W, dFc1B, dFc2W, dFc2B, rows, D, Hd)
Napi::Value MlpGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t R, D, Hd;
  if (!Dims(info, 11, "mlpGrad", &R, &D, &Hd)) return env.Undefined();
  const float* dy = F32Arg(info, 0, R * D, "mlpGrad dy");
  if (!dy) return env.Undefined();
  const float* x = F32Arg(info, 1, R * D, "mlpGrad x");
  if (!x) return env.Undefined();
  const float* fc1W = F32Arg(info, 2, Hd * D, "mlpGrad fc1W");
  if (!fc1W) return env.Undefined();
  const float* fc2W = F32Arg(info, 3, D * Hd, "mlpGrad fc2W");
  if (!fc2W) return env.Undefined();
  const float* pre = F32Arg(info, 4, R * Hd, "mlpGrad pre");
  if (!pre) return env.Undefined();
  const float* act = F32Arg(info, 5, R * Hd, "mlpGrad act");
  if (!act) return env.Undefined();
  float* dx = F32Arg(info, 6, R * D, "mlpGrad dx");
  if (!dx) return env.Undefined();
  float* dFc1W = F32Arg(info, 7, Hd * D, "mlpGrad dFc1W");
  if (!dFc1W) return env.Undefined();
  float* dFc1B = F32Arg(info, 8, Hd, "mlpGrad dFc1B");
  if (!dFc1B) return env.Undefined();
  float* dFc2W = F32Arg(info, 9, D * Hd, "mlpGrad dFc2W");
  if (!dFc2W) return env.Undefined();
  float* dFc2B = F32Arg(info, 10, D, "mlpGrad dFc2B");
  if (!dFc2B) return env.Undefined();
  MlpBackward(dy, x, fc1W, fc2W, pre, act, dx, dFc1W, dFc1B, dFc2W, dFc2B, R, D, Hd);
  return env.Undefined();
}

}  // namespace

void RegisterMlp(Napi::Env env, Napi::Object exports) {
  exports.Set("mlp", Napi::Function::New(env, Mlp, "mlp"));
  exports.Set("mlpGrad", Napi::Function::New(env, MlpGrad, "mlpGrad"));
}

}  // namespace dilemma
