// GeluErf / GeluErfGrad of the `cuda` backend (docs/ops.md), exact GELU:
//   y = 0.5 x (1 + erf(x / sqrt 2)) = x Phi(x),  dx = dy (Phi(x) + x phi(x)).
// Host buffers run the reference below in double, rounded once, with Phi(x) written as
// 0.5 erfc(-x / sqrt 2): the same function as core's cpu kernels and the CPU engine
// (csrc/engine/gelu_erf.cc, a float erf approximation with abs error ~1.2e-7), but without the
// cancellation of 1 + erf for negative x, so it is accurate relative to the value in the tail too.
// Device buffers run gelu.cu (float normcdff/expf): within a few float32 ulp of this reference.
#include <cmath>
#include <cstdint>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/gelu_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// geluErf(x, out, n)
Napi::Value GeluErf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t n = CountArg(info, 2, "geluErf");
  if (n < 0) return env.Undefined();
  Buf *x, *out;
  Where where;
  if (!BufArgs(info, "geluErf", {{&x, 0, "x", n}, {&out, 1, "out", n}}, &where) || n == 0) return env.Undefined();
  if (where == Where::kHost) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = x->f()[i];
      out->f()[i] = static_cast<float>(0.5 * v * std::erfc(-v * kInvSqrt2));
    }
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, GeluErfCuda(x->f(), out->f(), n, Stream()), "geluErf");
#endif
  return env.Undefined();
}

// geluErfGrad(dy, x, out, n)
Napi::Value GeluErfGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t n = CountArg(info, 3, "geluErfGrad");
  if (n < 0) return env.Undefined();
  Buf *dy, *x, *out;
  Where where;
  if (!BufArgs(info, "geluErfGrad", {{&dy, 0, "dy", n}, {&x, 1, "x", n}, {&out, 2, "out", n}}, &where) || n == 0)
    return env.Undefined();
  if (where == Where::kHost) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = x->f()[i];
      const double cdf = 0.5 * std::erfc(-v * kInvSqrt2);
      const double pdf = kInvSqrt2Pi * std::exp(-0.5 * v * v);
      out->f()[i] = static_cast<float>(static_cast<double>(dy->f()[i]) * (cdf + v * pdf));
    }
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, GeluErfGradCuda(dy->f(), x->f(), out->f(), n, Stream()), "geluErfGrad");
#endif
  return env.Undefined();
}

}  // namespace

void RegisterGelu(Napi::Env env, Napi::Object gpu) {
  gpu.Set("geluErf", Napi::Function::New(env, GeluErf, "geluErf"));
  gpu.Set("geluErfGrad", Napi::Function::New(env, GeluErfGrad, "geluErfGrad"));
}

}  // namespace dilemma::gpu
