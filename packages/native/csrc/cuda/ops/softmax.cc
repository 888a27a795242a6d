// gpu.softmax(x, out, rows, cols): softmax over each row of [rows, cols]. The host device runs the
// CPU reference below, which follows tfjs cpu's Softmax step by step (max with NaN propagation,
// x - max in float32, exp rounded to float32, sum in double rounded to float32, float32 divide),
// so it matches tfjs to the last bit up to the libm exp. softmax.cu is checked against it.
#include <napi.h>

#include <cmath>
#include <cstdint>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/softmax_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

void SoftmaxRef(const float* x, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    float m = xr[0];
    for (int64_t j = 0; j < cols; ++j)
      if (std::isnan(xr[j]) || xr[j] > m) m = xr[j];
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const float d = xr[j] - m;
      o[j] = static_cast<float>(std::exp(static_cast<double>(d)));
      s += o[j];
    }
    const float sf = static_cast<float>(s);
    for (int64_t j = 0; j < cols; ++j) o[j] = o[j] / sf;
  }
}

// softmax(x, out, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = IntArg(info, 2), cols = IntArg(info, 3);
  if (env.IsExceptionPending()) return env.Undefined();
  if (rows < 0 || cols < 0) return Throw(env, "gpu.softmax: negative size");
  Buf *x, *out;
  Where where;
  if (!BufArgs(info, "gpu.softmax", {{&x, 0, "x", rows * cols}, {&out, 1, "out", rows * cols}}, &where))
    return env.Undefined();
  if (rows * cols == 0) return env.Undefined();
  if (where == Where::kHost) {
    SoftmaxRef(x->f(), out->f(), rows, cols);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, softmax_cuda(x->f(), out->f(), rows, cols, Stream()), "gpu.softmax");
  return env.Undefined();
#else
  return Throw(env, "gpu.softmax: the addon was built without CUDA");
#endif
}

}  // namespace

void RegisterSoftmax(Napi::Env env, Napi::Object gpu) {
  gpu.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
}

}  // namespace dilemma::gpu
