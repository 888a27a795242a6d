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
  const size_t n = sizeof(float) * B * C, nc = sizeof(float) * C;
  const Buf* x = BufArg(info, 0, n, "gpu.batchNorm1d x");
  if (!x) return env.Undefined();
  const Buf* weight = OptBufArg(info, 1, nc, "gpu.batchNorm1d weight");
  const Buf* bias = OptBufArg(info, 2, nc, "gpu.batchNorm1d bias");
  if (env.IsExceptionPending()) return env.Undefined();
  if ((weight == nullptr) != (bias == nullptr)) return Throw(env, "gpu.batchNorm1d: give both weight and bias, or neither");
  const Buf* rm = BufArg(info, 3, nc, "gpu.batchNorm1d runningMean");
  if (!rm) return env.Undefined();
  const Buf* rv = BufArg(info, 4, nc, "gpu.batchNorm1d runningVar");
  if (!rv) return env.Undefined();
  const Buf* y = BufArg(info, 5, n, "gpu.batchNorm1d y");
  if (!y) return env.Undefined();
  const Buf* rmOut = BufArg(info, 6, nc, "gpu.batchNorm1d runningMeanOut");
  if (!rmOut) return env.Undefined();
  const Buf* rvOut = BufArg(info, 7, nc, "gpu.batchNorm1d runningVarOut");
  if (!rvOut) return env.Undefined();
  Where where;
  if (!SameDevice(info, what, {x, weight, bias, rm, rv, y, rmOut, rvOut}, &where) || C == 0) return env.Undefined();
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
  const size_t n = sizeof(float) * B * C, nc = sizeof(float) * C;
  const Buf* dy = BufArg(info, 0, n, "gpu.batchNorm1dGrad dy");
  if (!dy) return env.Undefined();
  const Buf* x = BufArg(info, 1, n, "gpu.batchNorm1dGrad x");
  if (!x) return env.Undefined();
  const Buf* weight = OptBufArg(info, 2, nc, "gpu.batchNorm1dGrad weight");
  if (env.IsExceptionPending()) return env.Undefined();
  const Buf* dx = BufArg(info, 3, n, "gpu.batchNorm1dGrad dx");
  if (!dx) return env.Undefined();
  const Buf* dWeight = OptBufArg(info, 4, nc, "gpu.batchNorm1dGrad dWeight");
  const Buf* dBias = OptBufArg(info, 5, nc, "gpu.batchNorm1dGrad dBias");
  if (env.IsExceptionPending()) return env.Undefined();
  if (weight && (!dWeight || !dBias)) return Throw(env, "gpu.batchNorm1dGrad: with weight, dWeight and dBias are required");
  Where where;
  if (!SameDevice(info, what, {dy, x, weight, dx, dWeight, dBias}, &where) || C == 0) return env.Undefined();
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
