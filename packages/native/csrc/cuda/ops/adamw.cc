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
  if (!CheckCount(info, 15, "adamW")) return env.Undefined();
  const int64_t n = IntArg(info, 7);
  double s[7];  // lr, beta1, beta2, eps, weightDecay, stepSize, sqrtBc2
  for (int k = 0; k < 7; ++k) s[k] = NumArg(info, 8 + k);
  if (env.IsExceptionPending()) return env.Undefined();
  if (n < 0) return Throw(env, "adamW: element count " + std::to_string(n) + " is negative");
  Buf *p, *g, *m, *v, *pOut, *mOut, *vOut;
  Where where;
  if (!BufArgs(info, "adamW",
               {{&p, 0, "p", n}, {&g, 1, "g", n}, {&m, 2, "m", n}, {&v, 3, "v", n}, {&pOut, 4, "pOut", n},
                {&mOut, 5, "mOut", n}, {&vOut, 6, "vOut", n}},
               &where) ||
      n == 0)
    return env.Undefined();
  const ref::AdamWConsts c = ref::AdamWConstants(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
  if (where == Where::kHost) {
    ref::AdamW(p->f(), g->f(), m->f(), v->f(), pOut->f(), mOut->f(), vOut->f(), 0, n, c);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, AdamWCuda(p->f(), g->f(), m->f(), v->f(), pOut->f(), mOut->f(), vOut->f(), n, c, Stream()),
            "adamW");
#endif
  return env.Undefined();
}

}  // namespace

void RegisterAdamW(Napi::Env env, Napi::Object gpu) { gpu.Set("adamW", Napi::Function::New(env, AdamW, "adamW")); }

}  // namespace dilemma::gpu
