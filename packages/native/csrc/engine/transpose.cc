// Transpose by a permutation (rank <= 8): out[o] = x[sum idx_d * inStride[perm[d]]]. The
// innermost output axis is copied in a strided loop; rows of the output are split over the pool.
#include <vector>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"

namespace dilemma {
namespace {

// transpose(x, out, inShape[], perm[])
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto shapeArr = info[2].As<Napi::Array>();
  auto permArr = info[3].As<Napi::Array>();
  const int r = static_cast<int>(shapeArr.Length());
  if (r == 0 || r > 8 || static_cast<int>(permArr.Length()) != r) {
    Napi::RangeError::New(env, "transpose: rank must be 1..8 and match perm").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<int64_t> inShape(r), perm(r), inStride(r), outShape(r), srcStride(r);
  int64_t size = 1;
  for (int d = 0; d < r; ++d) {
    inShape[d] = shapeArr.Get(d).As<Napi::Number>().Int64Value();
    perm[d] = permArr.Get(d).As<Napi::Number>().Int64Value();
    size *= inShape[d];
  }
  if (size == 0) return env.Undefined();
  const float* x = F32Arg(info, 0, size, "transpose x");
  if (!x) return env.Undefined();
  float* out = F32Arg(info, 1, size, "transpose out");
  if (!out) return env.Undefined();
  int64_t s = 1;
  for (int d = r - 1; d >= 0; --d) {
    inStride[d] = s;
    s *= inShape[d];
  }
  for (int d = 0; d < r; ++d) {
    outShape[d] = inShape[perm[d]];
    srcStride[d] = inStride[perm[d]];
  }
  const int64_t inner = outShape[r - 1], innerStride = srcStride[r - 1];
  const int64_t rows = size / inner;
  ParallelFor(rows, std::max<int64_t>(1, 8192 / inner), [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      int64_t rem = row, off = 0;
      for (int d = r - 2; d >= 0; --d) {
        const int64_t idx = rem % outShape[d];
        rem /= outShape[d];
        off += idx * srcStride[d];
      }
      const float* src = x + off;
      float* dst = out + row * inner;
      if (innerStride == 1)
        for (int64_t j = 0; j < inner; ++j) dst[j] = src[j];
      else
        for (int64_t j = 0; j < inner; ++j) dst[j] = src[j * innerStride];
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterTranspose(Napi::Env env, Napi::Object exports) {
  exports.Set("transpose", Napi::Function::New(env, Transpose, "transpose"));
}

}  // namespace dilemma
