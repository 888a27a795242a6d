// Elementwise unary float32 ops, split over the pool. Transcendentals are evaluated in double
// and rounded once, like tfjs-backend-cpu (Math.exp etc. on doubles), so results match it.
#include <cmath>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"
#include "op_codes.h"

namespace dilemma {
namespace {

// Codes of op_codes.h; this engine implements the ops of the switch in Unary below.
enum UnOp { DILEMMA_UNARY_OPS(DILEMMA_OP_ENUMERATOR) };

template <int OP>
inline float F(float x) {
  if (OP == kExp) return static_cast<float>(std::exp(static_cast<double>(x)));
  if (OP == kLog) return static_cast<float>(std::log(static_cast<double>(x)));
  if (OP == kNeg) return -x;
  if (OP == kSqrt) return static_cast<float>(std::sqrt(static_cast<double>(x)));
  if (OP == kRsqrt) return static_cast<float>(1.0 / std::sqrt(static_cast<double>(x)));
  if (OP == kSquare) return x * x;
  if (OP == kAbs) return std::fabs(x);
  if (OP == kRelu) return x < 0.f ? 0.f : x;  // NaN passes through, as in tfjs
  if (OP == kSigmoid) return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
  if (OP == kTanh) return static_cast<float>(std::tanh(static_cast<double>(x)));
  return static_cast<float>(1.0 / static_cast<double>(x));  // kReciprocal
}

template <int OP>
void Run(const float* x, float* out, int64_t n) {
  ParallelFor(n, 16384, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = F<OP>(x[i]);
  });
}

// unary(op, x, out)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = static_cast<int>(IntArg(info, 0));
  auto outArr = info[2].As<Napi::Float32Array>();
  const int64_t n = static_cast<int64_t>(outArr.ElementLength());
  const float* x = F32Arg(info, 1, n, "unary x");
  if (!x) return env.Undefined();
  float* out = outArr.Data();
  switch (op) {
    case kExp: Run<kExp>(x, out, n); break;
    case kLog: Run<kLog>(x, out, n); break;
    case kNeg: Run<kNeg>(x, out, n); break;
    case kSqrt: Run<kSqrt>(x, out, n); break;
    case kRsqrt: Run<kRsqrt>(x, out, n); break;
    case kSquare: Run<kSquare>(x, out, n); break;
    case kAbs: Run<kAbs>(x, out, n); break;
    case kRelu: Run<kRelu>(x, out, n); break;
    case kSigmoid: Run<kSigmoid>(x, out, n); break;
    case kTanh: Run<kTanh>(x, out, n); break;
    case kReciprocal: Run<kReciprocal>(x, out, n); break;
    default: Napi::RangeError::New(env, "unary: unknown op code").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

}  // namespace

void RegisterUnary(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
}

}  // namespace dilemma
