// Fused AdamW step of the `cuda` backend: core's AdamWUpdate op (docs/cuda-engine.md). The host
// device runs the CPU reference, ref/optim.h (bit-identical to core's cpu kernel); adamw.cu
// computes the same roundings.
#include <cstdint>
#include <string>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#include "ref/optim.h"
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
  const ref::AdamWConsts c = ref::AdamWConstants(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
  if (where == Where::kHost) {
    ref::AdamW(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), 0, n, c);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, AdamWCuda(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), n, c, Stream()),
            "adamW");
#endif
  return env.Undefined();
}

}  // namespace

void RegisterAdamW(Napi::Env env, Napi::Object gpu) { gpu.Set("adamW", Napi::Function::New(env, AdamW, "adamW")); }

}  // namespace dilemma::gpu
