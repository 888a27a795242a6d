// Fused AdamW step of the `cuda` backend: core's AdamWUpdate op (docs/cuda-engine.md).
//   m' = m*b1 + g*(1-b1);  v' = v*b2 + (g*g)*(1-b2);  d = wd == 0 ? p : p*(1-lr*wd)
//   p' = d - (m' / (sqrt(v')/sqrtBc2 + eps)) * stepSize
// The host reference is bit-identical to core's cpu kernel: the constants are computed in double
// and rounded to float32 (as the JS numbers become float32 scalars), then every operation is one
// float32 operation, rounded, in the order above. Float + - * / sqrt of float operands equal the
// JS double operation rounded to float32, so only contraction into FMAs could break this: it is
// switched off for this file (the pragma below; the default x86-64 target has no FMA anyway).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>
#include <cstdint>
#include <string>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/adamw_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

// adamW(p, g, m, v, pOut, mOut, vOut, n, lr, beta1, beta2, eps, weightDecay, stepSize, sqrtBc2)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 15) return Throw(env, "adamW: expected 15 arguments, got " + std::to_string(info.Length()));
  const int64_t n = IntArg(info, 7);
  double s[7];  // lr, beta1, beta2, eps, weightDecay, stepSize, sqrtBc2
  for (int k = 0; k < 7; ++k) s[k] = NumArg(info, 8 + k);
  if (env.IsExceptionPending()) return env.Undefined();
  if (n < 0) return Throw(env, "adamW: element count " + std::to_string(n) + " is negative");
  const size_t bytes = static_cast<size_t>(n) * 4;
  static const char* const kNames[7] = {"adamW p", "adamW g", "adamW m", "adamW v", "adamW pOut", "adamW mOut", "adamW vOut"};
  Buf* b[7];
  for (int k = 0; k < 7; ++k) {
    b[k] = BufArg(info, k, bytes, kNames[k]);
    if (!b[k]) return env.Undefined();
  }
  Where where;
  if (!SameDevice(info, "adamW", {b[0], b[1], b[2], b[3], b[4], b[5], b[6]}, &where) || n == 0) return env.Undefined();
  const double lr = s[0], beta1 = s[1], beta2 = s[2], eps = s[3], wd = s[4], stepSize = s[5], sqrtBc2 = s[6];

  // constants as float32 scalars, computed in double first (as JS does)
  const float b1 = static_cast<float>(beta1), c1 = static_cast<float>(1.0 - beta1);
  const float b2 = static_cast<float>(beta2), c2 = static_cast<float>(1.0 - beta2);
  const float decay = static_cast<float>(1.0 - lr * wd);
  const float sb = static_cast<float>(sqrtBc2), ep = static_cast<float>(eps), st = static_cast<float>(stepSize);
  const bool decays = wd != 0;

  if (where == Where::kHost) {
    const float *p = b[0]->f(), *g = b[1]->f(), *m = b[2]->f(), *v = b[3]->f();
    float *pOut = b[4]->f(), *mOut = b[5]->f(), *vOut = b[6]->f();
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float mPart = m[i] * b1;
      const float gPart = gi * c1;
      const float mi = mPart + gPart;
      const float vPart = v[i] * b2;
      const float g2 = gi * gi;
      const float g2Part = g2 * c2;
      const float vi = vPart + g2Part;
      const float d = decays ? p[i] * decay : p[i];
      const float root = std::sqrt(vi);
      const float scaled = root / sb;
      const float denom = scaled + ep;
      const float ratio = mi / denom;
      const float delta = ratio * st;
      pOut[i] = d - delta;  // written after every read of element i: outputs may alias inputs
      mOut[i] = mi;
      vOut[i] = vi;
    }
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  const AdamWConsts c{b1, c1, b2, c2, decay, sb, ep, st, decays};
  CheckCuda(env, AdamWCuda(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), n, c, Stream()),
            "adamW");
#endif
  return env.Undefined();
}

}  // namespace

void RegisterAdamW(Napi::Env env, Napi::Object gpu) { gpu.Set("adamW", Napi::Function::New(env, AdamW, "adamW")); }

}  // namespace dilemma::gpu
