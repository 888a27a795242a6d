// Fused EMA update of the `cuda` backend: core's EmaUpdate op (docs/cuda-engine.md),
//   out = target + (source - target)*(1-m), 1-m computed in double and rounded to float32.
// The host device runs the CPU reference, ref/optim.h (bit-identical to core's cpu kernel);
// ema.cu computes the same roundings.
#include <cstdint>
#include <string>

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

}  // namespace

void RegisterEma(Napi::Env env, Napi::Object gpu) { gpu.Set("ema", Napi::Function::New(env, Ema, "ema")); }

}  // namespace dilemma::gpu
