// Fused AdamW step of the `cuda` backend: core's AdamWUpdate op (docs/cuda-engine.md). The host
// device runs the CPU reference, ref/optim.h (bit-identical to core's cpu kernel); adamw.cu
// computes the same roundings.
#include <cstdint>
#include <string>
#include <vector>

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

// adamWMulti(ids, sizes, weightDecay, lr, beta1, beta2, eps, stepSize, sqrtBc2): the step of N
// parameters in one call (core's AdamWUpdate op with N groups): ids is a Float64Array of 7N
// buffer ids, (p, g, m, v, pOut, mOut, vOut) per parameter, sizes and weightDecay Float64Arrays
// of N. Every argument is checked before any tensor is written; then each parameter runs as
// adamW does (the host reference, or one launch of the CUDA kernel, in order on the stream).
Napi::Value AdamWMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 9) return Throw(env, "adamWMulti: expected 9 arguments, got " + std::to_string(info.Length()));
  size_t nIds = 0, nSizes = 0, nWd = 0;
  const double* ids = F64ArrayArg(info, 0, &nIds, "adamWMulti ids");
  if (ids == nullptr) return env.Undefined();
  const double* sizes = F64ArrayArg(info, 1, &nSizes, "adamWMulti sizes");
  if (sizes == nullptr) return env.Undefined();
  const double* wd = F64ArrayArg(info, 2, &nWd, "adamWMulti weightDecay");
  if (wd == nullptr) return env.Undefined();
  double s[6];  // lr, beta1, beta2, eps, stepSize, sqrtBc2
  for (int k = 0; k < 6; ++k) s[k] = NumArg(info, 3 + k);
  if (env.IsExceptionPending()) return env.Undefined();
  const size_t count = nSizes;
  if (nIds != 7 * count || nWd != count) {
    return Throw(env, "adamWMulti: " + std::to_string(count) + " sizes need " + std::to_string(7 * count) + " ids and " +
                          std::to_string(count) + " weight decays, got " + std::to_string(nIds) + " and " + std::to_string(nWd));
  }
  std::vector<Buf*> bufs;
  Where where;
  if (!BufGroups(env, "adamWMulti", ids, sizes, count, {"p", "g", "m", "v", "pOut", "mOut", "vOut"}, &bufs, &where))
    return env.Undefined();
  for (size_t t = 0; t < count; ++t) {
    const int64_t n = static_cast<int64_t>(sizes[t]);
    if (n == 0) continue;
    Buf* const* b = &bufs[7 * t];
    const ref::AdamWConsts c = ref::AdamWConstants(s[0], s[1], s[2], s[3], wd[t], s[4], s[5]);
    if (where == Where::kHost) {
      ref::AdamW(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), 0, n, c);
      continue;
    }
#if defined(DILEMMA_HAVE_CUDA)
    if (!CheckCuda(env, AdamWCuda(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), n, c, Stream()),
                   "adamWMulti")) {
      return env.Undefined();
    }
#endif
  }
  return env.Undefined();
}

}  // namespace

void RegisterAdamW(Napi::Env env, Napi::Object gpu) {
  gpu.Set("adamW", Napi::Function::New(env, AdamW, "adamW"));
  gpu.Set("adamWMulti", Napi::Function::New(env, AdamWMulti, "adamWMulti"));
}

}  // namespace dilemma::gpu
