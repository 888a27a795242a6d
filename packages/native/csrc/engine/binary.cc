// Elementwise binary ops with numpy/tfjs broadcasting: out[i] = f(a[ia], b[ib]).
// JS passes the output shape and per-operand strides (0 on broadcast axes); adjacent axes are
// merged here so the common cases become one contiguous inner loop (same shape, scalar, [.., D]
// + [D]). Rows of the merged shape are split over the pool.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"
#include "op_codes.h"

namespace dilemma {
namespace {

// Codes of op_codes.h; this engine implements Add..SqDiff (the switch in Binary below).
enum BinOp { DILEMMA_BINARY_OPS(DILEMMA_OP_ENUMERATOR) };

template <int OP>
inline float Apply(float x, float y) {
  if (OP == kAdd) return x + y;
  if (OP == kSub) return x - y;
  if (OP == kMul) return x * y;
  if (OP == kDiv) return x / y;
  if (OP == kMax) return (x != x || y != y) ? NAN : (x > y ? x : y);
  if (OP == kMin) return (x != x || y != y) ? NAN : (x < y ? x : y);
  float d = x - y;
  return d * d;
}

template <int OP>
void Inner(const float* __restrict a, int64_t sa, const float* __restrict b, int64_t sb, float* __restrict o,
           int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = Apply<OP>(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float y = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = Apply<OP>(a[i], y);
  } else if (sa == 0 && sb == 1) {
    const float x = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = Apply<OP>(x, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = Apply<OP>(a[i * sa], b[i * sb]);
  }
}

template <int OP>
void Run(const float* a, const float* b, float* out, const std::vector<int64_t>& shape,
         const std::vector<int64_t>& sa, const std::vector<int64_t>& sb) {
  const int r = static_cast<int>(shape.size());
  const int64_t inner = shape[r - 1];
  int64_t rows = 1;
  for (int d = 0; d < r - 1; ++d) rows *= shape[d];
  const int64_t total = rows * inner;
  if (rows == 1) {  // one long row: split it
    ParallelFor(inner, 16384, [&](int64_t i0, int64_t i1) {
      Inner<OP>(a + i0 * sa[r - 1], sa[r - 1], b + i0 * sb[r - 1], sb[r - 1], out + i0, i1 - i0);
    });
    return;
  }
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1));
  (void)total;
  ParallelFor(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      int64_t rem = row, oa = 0, ob = 0;
      for (int d = r - 2; d >= 0; --d) {
        const int64_t idx = rem % shape[d];
        rem /= shape[d];
        oa += idx * sa[d];
        ob += idx * sb[d];
      }
      Inner<OP>(a + oa, sa[r - 1], b + ob, sb[r - 1], out + row * inner, inner);
    }
  });
}

std::vector<int64_t> IntVec(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) out[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

// binary(op, a, b, out, outShape[], aStrides[], bStrides[])
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = static_cast<int>(IntArg(info, 0));
  std::vector<int64_t> shape = IntVec(info[4]), sa = IntVec(info[5]), sb = IntVec(info[6]);
  if (shape.size() != sa.size() || shape.size() != sb.size()) {
    Napi::TypeError::New(env, "binary: shape and strides differ in rank").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t size = 1, needA = 1, needB = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    size *= shape[d];
    if (shape[d] > 0) {
      needA += (shape[d] - 1) * sa[d];
      needB += (shape[d] - 1) * sb[d];
    }
  }
  if (size == 0) return env.Undefined();
  const float* a = F32Arg(info, 1, needA, "binary a");
  if (!a) return env.Undefined();
  const float* b = F32Arg(info, 2, needB, "binary b");
  if (!b) return env.Undefined();
  float* out = F32Arg(info, 3, size, "binary out");
  if (!out) return env.Undefined();
  // Drop size-1 axes, then merge axis d into d+1 when both operands are contiguous across them.
  std::vector<int64_t> s2, a2, b2;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!s2.empty() && a2.back() == sa[d] * shape[d] && b2.back() == sb[d] * shape[d]) {
      s2.back() *= shape[d];
      a2.back() = sa[d];
      b2.back() = sb[d];
    } else {
      s2.push_back(shape[d]);
      a2.push_back(sa[d]);
      b2.push_back(sb[d]);
    }
  }
  if (s2.empty()) {
    s2 = {1};
    a2 = {0};
    b2 = {0};
  }
  switch (op) {
    case kAdd: Run<kAdd>(a, b, out, s2, a2, b2); break;
    case kSub: Run<kSub>(a, b, out, s2, a2, b2); break;
    case kMul: Run<kMul>(a, b, out, s2, a2, b2); break;
    case kDiv: Run<kDiv>(a, b, out, s2, a2, b2); break;
    case kMax: Run<kMax>(a, b, out, s2, a2, b2); break;
    case kMin: Run<kMin>(a, b, out, s2, a2, b2); break;
    case kSqDiff: Run<kSqDiff>(a, b, out, s2, a2, b2); break;
    default: Napi::RangeError::New(env, "binary: unknown op code").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// addN(out, [inputs...]): out = sum of equally-shaped inputs (gradient accumulation).
Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arr = info[1].As<Napi::Array>();
  const uint32_t n = arr.Length();
  auto outArr = info[0].As<Napi::Float32Array>();
  const int64_t size = static_cast<int64_t>(outArr.ElementLength());
  float* out = outArr.Data();
  std::vector<const float*> ins(n);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength()) < size) {
      Napi::TypeError::New(env, "addN: inputs must be Float32Arrays of the output's size").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    ins[i] = v.As<Napi::Float32Array>().Data();
  }
  ParallelFor(size, 16384, [&](int64_t i0, int64_t i1) {
    std::copy(ins[0] + i0, ins[0] + i1, out + i0);
    for (uint32_t k = 1; k < n; ++k) {
      const float* __restrict x = ins[k];
      for (int64_t i = i0; i < i1; ++i) out[i] += x[i];
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterBinary(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("addN", Napi::Function::New(env, AddN, "addN"));
}

}  // namespace dilemma
