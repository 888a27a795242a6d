// Sum / Max / Min over a contiguous block of axes: x viewed as [outer, R, inner] reduces to
// [outer, inner]. inner == 1 (last axes) reduces rows; outer == 1 (leading axes, e.g. bias
// gradients) reduces columns. Sums accumulate in double, so long reductions stay accurate.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"
#include "op_codes.h"

namespace dilemma {
namespace {

// Codes of op_codes.h; this engine implements Sum, Max and Min (Mean is Sum over R, in JS).
enum RedOp { DILEMMA_REDUCE_OPS(DILEMMA_OP_ENUMERATOR) };

// reduce(op, x, out, outer, R, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = static_cast<int>(IntArg(info, 0));
  const int64_t outer = IntArg(info, 3), R = IntArg(info, 4), inner = IntArg(info, 5);
  const float* x = F32Arg(info, 1, outer * R * inner, "reduce x");
  if (!x) return env.Undefined();
  float* out = F32Arg(info, 2, outer * inner, "reduce out");
  if (!out) return env.Undefined();
  if (op != kSum && op != kMax && op != kMin) {
    Napi::RangeError::New(env, "reduce: unknown op code").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (inner == 1) {
    ParallelFor(outer, std::max<int64_t>(1, 8192 / std::max<int64_t>(R, 1)), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const float* r = x + o * R;
        if (op == kSum) {
          double s = 0;
          for (int64_t i = 0; i < R; ++i) s += r[i];
          out[o] = static_cast<float>(s);
        } else {
          float m = op == kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
          bool nan = false;
          for (int64_t i = 0; i < R; ++i) {
            const float v = r[i];
            nan |= v != v;
            m = op == kMax ? (v > m ? v : m) : (v < m ? v : m);
          }
          out[o] = nan ? NAN : m;
        }
      }
    });
    return env.Undefined();
  }
  // General [outer, R, inner]: parallel over (outer, inner-chunk); accumulate a column block.
  constexpr int64_t CB = 256;
  const int64_t chunksPerOuter = (inner + CB - 1) / CB;
  ParallelFor(outer * chunksPerOuter, 1, [&](int64_t t0, int64_t t1) {
    std::vector<double> acc(CB);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / chunksPerOuter, c0 = (t % chunksPerOuter) * CB, c1 = std::min(inner, c0 + CB);
      const int64_t w = c1 - c0;
      const float* base = x + o * R * inner + c0;
      float* dst = out + o * inner + c0;
      if (op == kSum) {
        std::fill(acc.begin(), acc.begin() + w, 0.0);
        for (int64_t r = 0; r < R; ++r) {
          const float* row = base + r * inner;
          for (int64_t j = 0; j < w; ++j) acc[j] += row[j];
        }
        for (int64_t j = 0; j < w; ++j) dst[j] = static_cast<float>(acc[j]);
      } else {
        for (int64_t j = 0; j < w; ++j) dst[j] = base[j];
        for (int64_t r = 1; r < R; ++r) {
          const float* row = base + r * inner;
          for (int64_t j = 0; j < w; ++j) {
            const float v = row[j], m = dst[j];
            dst[j] = (v != v || m != m) ? NAN : (op == kMax ? (v > m ? v : m) : (v < m ? v : m));
          }
        }
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
}

}  // namespace dilemma
