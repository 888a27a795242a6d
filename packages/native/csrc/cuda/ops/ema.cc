// Fused EMA update of the `cuda` backend: core's EmaUpdate op (docs/cuda-engine.md),
//   out = target + (source - target)*(1-m), 1-m computed in double and rounded to float32.
// The host device runs the CPU reference, ref/optim.h (bit-identical to core's cpu kernel);
// ema.cu computes the same roundings.
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#include "ref/optim.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/ema_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

// ema(target, source, out, n, momentum)
Napi::Value Ema(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCount(info, 5, "ema")) return env.Undefined();
  const int64_t n = IntArg(info, 3);
  const double momentum = NumArg(info, 4);
  if (env.IsExceptionPending()) return env.Undefined();
  if (n < 0) return Throw(env, "ema: element count " + std::to_string(n) + " is negative");
  Buf *t, *s, *o;
  Where where;
  if (!BufArgs(info, "ema", {{&t, 0, "target", n}, {&s, 1, "source", n}, {&o, 2, "out", n}}, &where) || n == 0)
    return env.Undefined();
  const float b = static_cast<float>(1.0 - momentum);
  if (where == Where::kHost) {
    ref::Ema(t->f(), s->f(), o->f(), 0, n, b);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, EmaCuda(t->f(), s->f(), o->f(), n, b, Stream()), "ema");
#endif
  return env.Undefined();
}

// emaMulti(ids, sizes, momentum): the update of N parameters in one call (core's EmaUpdate op with
// N pairs): ids is a Float64Array of 3N buffer ids, (target, source, out) per parameter, sizes a
// Float64Array of N. Every argument is checked before any tensor is written; then each
// parameter runs as ema does (the host reference, or one launch of the CUDA kernel).
Napi::Value EmaMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) return Throw(env, "emaMulti: expected 3 arguments, got " + std::to_string(info.Length()));
  size_t nIds = 0, count = 0;
  const double* ids = F64ArrayArg(info, 0, &nIds, "emaMulti ids");
  if (ids == nullptr) return env.Undefined();
  const double* sizes = F64ArrayArg(info, 1, &count, "emaMulti sizes");
  if (sizes == nullptr) return env.Undefined();
  const double momentum = NumArg(info, 2);
  if (env.IsExceptionPending()) return env.Undefined();
  if (nIds != 3 * count) {
    return Throw(env, "emaMulti: " + std::to_string(count) + " sizes need " + std::to_string(3 * count) + " ids, got " +
                          std::to_string(nIds));
  }
  std::vector<Buf*> bufs;
  Where where;
  if (!BufGroups(env, "emaMulti", ids, sizes, count, {"target", "source", "out"}, &bufs, &where)) return env.Undefined();
  const float b = static_cast<float>(1.0 - momentum);
  for (size_t t = 0; t < count; ++t) {
    const int64_t n = static_cast<int64_t>(sizes[t]);
    if (n == 0) continue;
    Buf* const* tb = &bufs[3 * t];
    if (where == Where::kHost) {
      ref::Ema(tb[0]->f(), tb[1]->f(), tb[2]->f(), 0, n, b);
      continue;
    }
#if defined(DILEMMA_HAVE_CUDA)
    if (!CheckCuda(env, EmaCuda(tb[0]->f(), tb[1]->f(), tb[2]->f(), n, b, Stream()), "emaMulti")) return env.Undefined();
#endif
  }
  return env.Undefined();
}

}  // namespace

void RegisterEma(Napi::Env env, Napi::Object gpu) {
  gpu.Set("ema", Napi::Function::New(env, Ema, "ema"));
  gpu.Set("emaMulti", Napi::Function::New(env, EmaMulti, "emaMulti"));
}

}  // namespace dilemma::gpu
