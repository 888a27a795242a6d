// Softmax over the last axis (tfjs Softmax, dim = -1): exp(x - max) / sum, per row.
#include <algorithm>
#include <cmath>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"

namespace dilemma {
namespace {

// softmax(x, out, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = IntArg(info, 2), cols = IntArg(info, 3);
  const float* x = F32Arg(info, 0, rows * cols, "softmax x");
  if (!x) return env.Undefined();
  float* out = F32Arg(info, 1, rows * cols, "softmax out");
  if (!out) return env.Undefined();
  ParallelFor(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(cols, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* o = out + r * cols;
      float m = -INFINITY;
      for (int64_t j = 0; j < cols; ++j) m = std::max(m, xr[j]);
      double s = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const float e = static_cast<float>(std::exp(static_cast<double>(xr[j] - m)));
        o[j] = e;
        s += e;
      }
      const float inv = static_cast<float>(1.0 / s);
      for (int64_t j = 0; j < cols; ++j) o[j] *= inv;
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterSoftmax(Napi::Env env, Napi::Object exports) {
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
}

}  // namespace dilemma
