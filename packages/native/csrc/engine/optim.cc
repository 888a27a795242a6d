// AdamWUpdate and EmaUpdate, core's fused optimizer ops (docs/cuda-engine.md), on the CPU
// engine's pool: bit-identical to core's cpu kernels (constants computed in double and rounded
// to float32, then one rounded float32 operation at a time in the same order), so the FMA
// contraction that would change the rounding is off for this file. Elementwise and
// memory-bound: the win over the JS kernels is the threads and no per-element Math.fround.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"

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
  const double lr = NumArg(info, 7), beta1 = NumArg(info, 8), beta2 = NumArg(info, 9), eps = NumArg(info, 10),
               wd = NumArg(info, 11), stepSize = NumArg(info, 12), sqrtBc2 = NumArg(info, 13);
  const float b1 = static_cast<float>(beta1), c1 = static_cast<float>(1.0 - beta1);
  const float b2 = static_cast<float>(beta2), c2 = static_cast<float>(1.0 - beta2);
  const float decay = static_cast<float>(1.0 - lr * wd);
  const float sb = static_cast<float>(sqrtBc2), ep = static_cast<float>(eps), st = static_cast<float>(stepSize);
  const bool decays = wd != 0;
  const float *p = a[0], *g = a[1], *m = a[2], *v = a[3];
  float *pOut = a[4], *mOut = a[5], *vOut = a[6];
  ParallelFor(n, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float gi = g[i];
      const float mi = m[i] * b1 + gi * c1;
      const float vi = v[i] * b2 + (gi * gi) * c2;
      const float d = decays ? p[i] * decay : p[i];
      const float denom = std::sqrt(vi) / sb + ep;
      const float pi = d - (mi / denom) * st;
      pOut[i] = pi;  // after every read of element i: outputs may alias inputs
      mOut[i] = mi;
      vOut[i] = vi;
    }
  });
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
  ParallelFor(n, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float step = (s[i] - t[i]) * b;
      out[i] = t[i] + step;
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamW", Napi::Function::New(env, AdamW, "adamW"));
  exports.Set("ema", Napi::Function::New(env, Ema, "ema"));
}

}  // namespace dilemma
