// GeluErf / GeluErfGrad (docs/ops.md), exact GELU with erf evaluated in double:
//   y = 0.5 x (1 + erf(x / sqrt 2)),  dx = dy (Phi(x) + x phi(x)).
#include <cmath>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"

namespace dilemma {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// geluErf(x, out)
Napi::Value GeluErf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto outArr = info[1].As<Napi::Float32Array>();
  const int64_t n = static_cast<int64_t>(outArr.ElementLength());
  const float* x = F32Arg(info, 0, n, "geluErf x");
  if (!x) return env.Undefined();
  float* out = outArr.Data();
  ParallelFor(n, 8192, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const double v = x[i];
      out[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v * kInvSqrt2)));
    }
  });
  return env.Undefined();
}

// geluErfGrad(dy, x, out)
Napi::Value GeluErfGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto outArr = info[2].As<Napi::Float32Array>();
  const int64_t n = static_cast<int64_t>(outArr.ElementLength());
  const float* dy = F32Arg(info, 0, n, "geluErfGrad dy");
  if (!dy) return env.Undefined();
  const float* x = F32Arg(info, 1, n, "geluErfGrad x");
  if (!x) return env.Undefined();
  float* out = outArr.Data();
  ParallelFor(n, 8192, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const double v = x[i];
      const double cdf = 0.5 * (1.0 + std::erf(v * kInvSqrt2));
      const double pdf = kInvSqrt2Pi * std::exp(-0.5 * v * v);
      out[i] = static_cast<float>(dy[i] * (cdf + v * pdf));
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterGeluErf(Napi::Env env, Napi::Object exports) {
  exports.Set("geluErf", Napi::Function::New(env, GeluErf, "geluErf"));
  exports.Set("geluErfGrad", Napi::Function::New(env, GeluErfGrad, "geluErfGrad"));
}

}  // namespace dilemma
