// gpu.batchNorm1d(x, weight, bias, runningMean, runningVar, y, runningMeanOut, runningVarOut, B, C, eps, momentum)
// gpu.batchNorm1dGrad(dy, x, weight, dx, dWeight, dBias, B, C, eps)
// BatchNorm1d in training mode on x [B, C] (docs/ops.md); weight and bias 0 for affine=False
// (then dWeight and dBias are 0 too). The host device runs the CPU reference, ref/batch_norm.h;
// batch_norm.cu is checked against it.
#include <napi.h>

#include <cstdint>
#include <string>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#include "ref/batch_norm.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/batch_norm_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

// B and C at argument i, i + 1; B >= 2 (the batch variance needs two rows).
bool Sizes(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t* B, int64_t* C) {
  Napi::Env env = info.Env();
  *B = IntArg(info, i);
  *C = IntArg(info, i + 1);
  if (env.IsExceptionPending()) return false;
  if (*B < 2 || *C < 0) {
    Throw(env, std::string(what) + ": needs B >= 2 and C >= 0, got B " + std::to_string(*B) + ", C " + std::to_string(*C));
    return false;
  }
  return true;
}

Napi::Value BatchNorm1d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "gpu.batchNorm1d";
  int64_t B, C;
  if (!Sizes(info, 8, what, &B, &C)) return env.Undefined();
  const double eps = NumArg(info, 10), momentum = NumArg(info, 11);
  if (env.IsExceptionPending()) return env.Undefined();
  const int64_t n = B * C;
  Buf *x, *weight, *bias, *rm, *rv, *y, *rmOut, *rvOut;
  Where where;
  if (!BufArgs(info, what,
               {{&x, 0, "x", n}, {&weight, 1, "weight", C, true}, {&bias, 2, "bias", C, true}, {&rm, 3, "runningMean", C},
                {&rv, 4, "runningVar", C}, {&y, 5, "y", n}, {&rmOut, 6, "runningMeanOut", C}, {&rvOut, 7, "runningVarOut", C}},
               &where))
    return env.Undefined();
  if ((weight == nullptr) != (bias == nullptr)) return Throw(env, "gpu.batchNorm1d: give both weight and bias, or neither");
  if (C == 0) return env.Undefined();
  const float* w = weight ? weight->f() : nullptr;
  const float* b = bias ? bias->f() : nullptr;
  if (where == Where::kHost) {
    ref::BatchNorm1d(x->f(), w, b, rm->f(), rv->f(), y->f(), rmOut->f(), rvOut->f(), B, C, eps, momentum);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env,
            batch_norm_fwd_cuda(x->f(), w, b, rm->f(), rv->f(), y->f(), rmOut->f(), rvOut->f(), B, C,
                                eps, momentum, Stream()),
            what);
  return env.Undefined();
#else
  return Throw(env, "gpu.batchNorm1d: the addon was built without CUDA");
#endif
}

Napi::Value BatchNorm1dGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "gpu.batchNorm1dGrad";
  int64_t B, C;
  if (!Sizes(info, 6, what, &B, &C)) return env.Undefined();
  const double eps = NumArg(info, 8);
  if (env.IsExceptionPending()) return env.Undefined();
  const int64_t n = B * C;
  Buf *dy, *x, *weight, *dx, *dWeight, *dBias;
  Where where;
  if (!BufArgs(info, what,
               {{&dy, 0, "dy", n}, {&x, 1, "x", n}, {&weight, 2, "weight", C, true}, {&dx, 3, "dx", n},
                {&dWeight, 4, "dWeight", C, true}, {&dBias, 5, "dBias", C, true}},
               &where))
    return env.Undefined();
  if (weight && (!dWeight || !dBias)) return Throw(env, "gpu.batchNorm1dGrad: with weight, dWeight and dBias are required");
  if (C == 0) return env.Undefined();
  const float* w = weight ? weight->f() : nullptr;
  float* dw = weight ? dWeight->f() : nullptr;
  float* db = weight ? dBias->f() : nullptr;
  if (where == Where::kHost) {
    ref::BatchNorm1dGrad(dy->f(), x->f(), w, dx->f(), dw, db, B, C, eps);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, batch_norm_bwd_cuda(dy->f(), x->f(), w, dx->f(), dw, db, B, C, eps, Stream()),
            what);
  return env.Undefined();
#else
  return Throw(env, "gpu.batchNorm1dGrad: the addon was built without CUDA");
#endif
}

}  // namespace

void RegisterBatchNorm(Napi::Env env, Napi::Object gpu) {
  gpu.Set("batchNorm1d", Napi::Function::New(env, BatchNorm1d, "batchNorm1d"));
  gpu.Set("batchNorm1dGrad", Napi::Function::New(env, BatchNorm1dGrad, "batchNorm1dGrad"));
}

}  // namespace dilemma::gpu
