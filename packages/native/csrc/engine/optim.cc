// AdamWUpdate and EmaUpdate, core's fused optimizer ops (docs/cuda-engine.md), on the CPU
// engine's pool: the reference loops of ref/optim.h over chunks, bit-identical to core's cpu
// kernels. Elementwise and memory-bound: the win over the JS kernels is the threads and no
// per-element Math.fround.
#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"
#include "ref/optim.h"

namespace dilemma {
namespace {

constexpr int64_t kGrain = 1 << 15;

// adamW(p, g, m, v, pOut, mOut, vOut, lr, beta1, beta2, eps, weightDecay, stepSize, sqrtBc2)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 14 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "adamW: expected 14 arguments (7 Float32Arrays, 7 numbers)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int64_t n = static_cast<int64_t>(info[0].As<Napi::TypedArray>().ElementLength());
  static const char* const kNames[7] = {"adamW p", "adamW g", "adamW m", "adamW v", "adamW pOut", "adamW mOut", "adamW vOut"};
  float* a[7];
  for (int k = 0; k < 7; ++k) {
    a[k] = F32Arg(info, k, n, kNames[k]);
    if (!a[k]) return env.Undefined();
  }
  // lr, beta1, beta2, eps, weightDecay, stepSize, sqrtBc2
  const ref::AdamWConsts c = ref::AdamWConstants(NumArg(info, 7), NumArg(info, 8), NumArg(info, 9), NumArg(info, 10),
                                                 NumArg(info, 11), NumArg(info, 12), NumArg(info, 13));
  ParallelFor(n, kGrain, [&](int64_t i0, int64_t i1) { ref::AdamW(a[0], a[1], a[2], a[3], a[4], a[5], a[6], i0, i1, c); });
  return env.Undefined();
}

// ema(target, source, out, momentum): out = target + (source - target)*(1-m), exact where
// source == target (core's ema_update.ts)
Napi::Value Ema(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "ema: expected (target, source, out, momentum)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int64_t n = static_cast<int64_t>(info[0].As<Napi::TypedArray>().ElementLength());
  const float* t = F32Arg(info, 0, n, "ema target");
  if (!t) return env.Undefined();
  const float* s = F32Arg(info, 1, n, "ema source");
  if (!s) return env.Undefined();
  float* out = F32Arg(info, 2, n, "ema out");
  if (!out) return env.Undefined();
  const double momentum = NumArg(info, 3);
  const float b = static_cast<float>(1.0 - momentum);
  ParallelFor(n, kGrain, [&](int64_t i0, int64_t i1) { ref::Ema(t, s, out, i0, i1, b); });
  return env.Undefined();
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamW", Napi::Function::New(env, AdamW, "adamW"));
  exports.Set("ema", Napi::Function::New(env, Ema, "ema"));
}

}  // namespace dilemma
