// Strided copy: dst[dOff + sum i_d dStride_d] = src[sOff + sum i_d sStride_d] over `shape`
// (rank <= 8). One kernel serves Slice, SplitV, Concat and Pad (the JS side computes the
// offsets and strides). Adjacent axes contiguous in both are merged, so row copies are memcpy.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"

namespace dilemma {
namespace {

std::vector<int64_t> IntVec(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) out[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

// stridedCopy(src, dst, shape[], srcOffset, srcStrides[], dstOffset, dstStrides[])
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int64_t> shape = IntVec(info[2]), ss = IntVec(info[4]), ds = IntVec(info[6]);
  const int64_t sOff = IntArg(info, 3), dOff = IntArg(info, 5);
  if (shape.size() != ss.size() || shape.size() != ds.size() || shape.empty() || shape.size() > 8) {
    Napi::RangeError::New(env, "stridedCopy: shape/strides ranks differ or exceed 8").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t size = 1, sNeed = sOff + 1, dNeed = dOff + 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    size *= shape[d];
    if (shape[d] > 0) {
      sNeed += (shape[d] - 1) * ss[d];
      dNeed += (shape[d] - 1) * ds[d];
    }
  }
  if (size == 0) return env.Undefined();
  const float* src = F32Arg(info, 0, sNeed, "stridedCopy src");
  if (!src) return env.Undefined();
  float* dst = F32Arg(info, 1, dNeed, "stridedCopy dst");
  if (!dst) return env.Undefined();
  // Merge axes: drop size-1 axes; fold d into the previous axis when both sides are contiguous.
  std::vector<int64_t> sh, sa, da;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!sh.empty() && sa.back() == ss[d] * shape[d] && da.back() == ds[d] * shape[d]) {
      sh.back() *= shape[d];
      sa.back() = ss[d];
      da.back() = ds[d];
    } else {
      sh.push_back(shape[d]);
      sa.push_back(ss[d]);
      da.push_back(ds[d]);
    }
  }
  if (sh.empty()) {
    dst[dOff] = src[sOff];
    return env.Undefined();
  }
  const int r = static_cast<int>(sh.size());
  const int64_t inner = sh[r - 1], si = sa[r - 1], di = da[r - 1];
  const int64_t rows = size / inner;
  ParallelFor(rows, std::max<int64_t>(1, 16384 / inner), [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      int64_t rem = row, so = sOff, dof = dOff;
      for (int d = r - 2; d >= 0; --d) {
        const int64_t idx = rem % sh[d];
        rem /= sh[d];
        so += idx * sa[d];
        dof += idx * da[d];
      }
      if (si == 1 && di == 1) {
        std::memcpy(dst + dof, src + so, sizeof(float) * inner);
      } else {
        for (int64_t j = 0; j < inner; ++j) dst[dof + j * di] = src[so + j * si];
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterStridedCopy(Napi::Env env, Napi::Object exports) {
  exports.Set("stridedCopy", Napi::Function::New(env, StridedCopy, "stridedCopy"));
}

}  // namespace dilemma
