// gpu.reduce(op, x, out, outer, r, inner, inDtype): reduces x viewed as [outer, r, inner] over r
// into [outer, inner] (src/cuda/addon.ts REDUCE codes). The host device runs the CPU reference
// below: plain loops with the tfjs cpu semantics, the ground truth reduce.cu is checked against.
//   Sum / Mean / Prod: float32 accumulate in double (like tfjs's JS numbers); int32 wraps mod 2^32.
//   Max / Min: NaN-propagating (a NaN anywhere gives NaN), like tfjs cpu.
//   ArgMax / ArgMin: first index of the extreme, strict comparison from element 0 as tfjs does
//     (so NaNs never win, except a NaN at index 0, which nothing beats: index 0).
//   Any / All: x != 0, output bool (int32 0/1).
// Output dtype: Sum/Max/Min/Prod that of the input (bool counts as int32), Mean float32,
// ArgMax/ArgMin int32, Any/All bool. r == 0 gives the identity (Sum 0, Prod 1, Max -inf,
// Min +inf, Mean NaN, Arg* 0, Any 0, All 1).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "cuda/ops/ops.h"
#include "op_codes.h"
#include "cuda/runtime.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/reduce_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

enum ReduceOp { DILEMMA_REDUCE_OPS(DILEMMA_OP_ENUMERATOR) };

// x[o, j, i] is col[j * inner] with col = x + o * r * inner + i.
void ReduceF32(int op, const float* x, void* outv, int64_t outer, int64_t r, int64_t inner) {
  float* outF = static_cast<float*>(outv);
  int32_t* outI = static_cast<int32_t*>(outv);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* col = x + o * r * inner + i;
      const int64_t k = o * inner + i;
      switch (op) {
        case kSum:
        case kMean: {
          double s = 0;
          for (int64_t j = 0; j < r; ++j) s += col[j * inner];
          outF[k] = static_cast<float>(op == kSum ? s : s / static_cast<double>(r));
          break;
        }
        case kProd: {
          double p = 1;
          for (int64_t j = 0; j < r; ++j) p *= col[j * inner];
          outF[k] = static_cast<float>(p);
          break;
        }
        case kMax:
        case kMin: {
          float m = r > 0 ? col[0] : (op == kMax ? -INFINITY : INFINITY);
          for (int64_t j = 0; j < r; ++j) {
            const float v = col[j * inner];
            if (std::isnan(v) || (op == kMax ? v > m : v < m)) m = v;
          }
          outF[k] = m;
          break;
        }
        case kArgMax:
        case kArgMin: {
          float m = r > 0 ? col[0] : 0.f;
          int32_t at = 0;
          for (int64_t j = 0; j < r; ++j) {
            const float v = col[j * inner];
            if (op == kArgMax ? v > m : v < m) {
              m = v;
              at = static_cast<int32_t>(j);
            }
          }
          outI[k] = at;
          break;
        }
        default: {  // Any / All on the values' truth (bool inputs are int32; see ReduceI32)
          bool acc = op == kAll;
          for (int64_t j = 0; j < r; ++j) {
            const bool t = col[j * inner] != 0.f;
            acc = op == kAll ? (acc && t) : (acc || t);
          }
          outI[k] = acc ? 1 : 0;
        }
      }
    }
  }
}

void ReduceI32(int op, const int32_t* x, void* outv, int64_t outer, int64_t r, int64_t inner) {
  float* outF = static_cast<float*>(outv);
  int32_t* outI = static_cast<int32_t*>(outv);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int32_t* col = x + o * r * inner + i;
      const int64_t k = o * inner + i;
      switch (op) {
        case kSum: {
          uint32_t s = 0;  // wraps like tfjs storing the (exact) sum into an Int32Array
          for (int64_t j = 0; j < r; ++j) s += static_cast<uint32_t>(col[j * inner]);
          outI[k] = static_cast<int32_t>(s);
          break;
        }
        case kMean: {
          double s = 0;
          for (int64_t j = 0; j < r; ++j) s += col[j * inner];
          outF[k] = static_cast<float>(s / static_cast<double>(r));
          break;
        }
        case kProd: {
          uint32_t p = 1;
          for (int64_t j = 0; j < r; ++j) p *= static_cast<uint32_t>(col[j * inner]);
          outI[k] = static_cast<int32_t>(p);
          break;
        }
        case kMax:
        case kMin: {
          int32_t m = op == kMax ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max();
          for (int64_t j = 0; j < r; ++j) {
            const int32_t v = col[j * inner];
            if (op == kMax ? v > m : v < m) m = v;
          }
          outI[k] = m;
          break;
        }
        case kArgMax:
        case kArgMin: {
          int32_t m = r > 0 ? col[0] : 0, at = 0;
          for (int64_t j = 0; j < r; ++j) {
            const int32_t v = col[j * inner];
            if (op == kArgMax ? v > m : v < m) {
              m = v;
              at = static_cast<int32_t>(j);
            }
          }
          outI[k] = at;
          break;
        }
        default: {
          bool acc = op == kAll;
          for (int64_t j = 0; j < r; ++j) {
            const bool t = col[j * inner] != 0;
            acc = op == kAll ? (acc && t) : (acc || t);
          }
          outI[k] = acc ? 1 : 0;
        }
      }
    }
  }
}

// reduce(op, x, out, outer, r, inner, inDtype)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t op = IntArg(info, 0), outer = IntArg(info, 3), r = IntArg(info, 4), inner = IntArg(info, 5),
                dtype = IntArg(info, 6);
  if (env.IsExceptionPending()) return env.Undefined();
  if (op < kSum || op > kAll) return Throw(env, "gpu.reduce: unknown op " + std::to_string(op));
  if (dtype != kF32 && dtype != kI32 && dtype != kBool)
    return Throw(env, "gpu.reduce: unknown dtype " + std::to_string(dtype));
  if ((op == kAny || op == kAll) && dtype == kF32) return Throw(env, "gpu.reduce: Any/All take bool (or int32) input");
  if (outer < 0 || r < 0 || inner < 0) return Throw(env, "gpu.reduce: negative size");
  Buf *x, *out;
  Where where;
  if (!BufArgs(info, "gpu.reduce", {{&x, 1, "x", outer * r * inner}, {&out, 2, "out", outer * inner}}, &where))
    return env.Undefined();
  if (outer * inner == 0) return env.Undefined();
  if (where == Where::kHost) {
    if (dtype == kF32) ReduceF32(static_cast<int>(op), x->f(), out->ptr, outer, r, inner);
    else ReduceI32(static_cast<int>(op), x->i(), out->ptr, outer, r, inner);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  cudaError_t e = reduce_cuda(static_cast<int>(op), x->ptr, out->ptr, outer, r, inner, static_cast<int>(dtype), Stream());
  if (e == cudaErrorMemoryAllocation) {  // scratch growth failed before any launch: free the cache, retry once
    cudaGetLastError();
    ReleaseCachedBlocks();
    e = reduce_cuda(static_cast<int>(op), x->ptr, out->ptr, outer, r, inner, static_cast<int>(dtype), Stream());
  }
  CheckCuda(env, e, "gpu.reduce");
  return env.Undefined();
#else
  return Throw(env, "gpu.reduce: the addon was built without CUDA");
#endif
}

}  // namespace

void RegisterReduce(Napi::Env env, Napi::Object gpu) {
  gpu.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
}

}  // namespace dilemma::gpu
