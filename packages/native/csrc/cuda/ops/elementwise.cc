// Elementwise kernels of the `cuda` backend: fill, cast, unary, binary (broadcasting), select,
// addN (contract: docs/cuda-engine.md, codes in op_codes.h and src/cuda/addon.ts). Each N-API
// entry checks its arguments, then runs the CPU reference below on host buffers or the CUDA
// launcher (elementwise.cu) on device buffers.
//
// The references are plain loops and the ground truth for the CUDA kernels. They reproduce
// tfjs-backend-cpu: tfjs evaluates every op on JS doubles and stores into a Float32Array /
// Int32Array, so float32 ops are computed in double and rounded once, and int32 results go
// through JS ToInt32 (truncate, wrap modulo 2^32, NaN/inf -> 0). For + - * / and sqrt of float32
// operands, float arithmetic is the same as double-then-round (53 >= 2*24+2), so those use float.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

// The references must round every operation as written (they are compared bit for bit with
// tfjs): no contraction of a*b+c into FMAs (only possible on FMA-baseline targets).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "cuda/ops/ops.h"
#include "op_codes.h"
#include "cuda/runtime.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/elementwise_cuda.h"
#endif

namespace dilemma::gpu {
namespace {

// ---- op codes (op_codes.h) ----
enum Unary { DILEMMA_UNARY_OPS(DILEMMA_OP_ENUMERATOR) };
enum Binary { DILEMMA_BINARY_OPS(DILEMMA_OP_ENUMERATOR) };

bool KnownUnary(int op) {
  switch (op) { DILEMMA_UNARY_OPS(DILEMMA_OP_CASE) return true; default: return false; }
}
bool KnownBinary(int op) {
  switch (op) { DILEMMA_BINARY_OPS(DILEMMA_OP_CASE) return true; default: return false; }
}

// JS ToInt32: what storing a number into an Int32Array does.
int32_t ToInt32(double x) {
  if (!std::isfinite(x)) return 0;
  double m = std::fmod(std::trunc(x), 4294967296.0);  // exact; sign of x
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// ---- unary (float32; double where tfjs calls Math.*) ----
float UnaryRef(int op, float x, double alpha) {
  const double d = x;
  switch (op) {
    case kAbs: return std::fabs(x);
    case kExp: return static_cast<float>(std::exp(d));
    case kLog: return static_cast<float>(std::log(d));
    case kLog1p: return static_cast<float>(std::log1p(d));
    case kNeg: return -x;
    case kRelu: return x > 0.f ? x : (x != x ? x : 0.f);  // Math.max(0, x): NaN stays, -0 -> +0
    case kRsqrt: return static_cast<float>(1.0 / std::sqrt(d));
    case kSqrt: return std::sqrt(x);
    case kSquare: return x * x;
    case kStep: return x != x ? x : (x > 0.f ? 1.f : static_cast<float>(alpha));
    case kSigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-d)));
    case kTanh: return static_cast<float>(std::tanh(d));
    case kReciprocal: return 1.f / x;
    case kSign: return x < 0.f ? -1.f : (x > 0.f ? 1.f : 0.f);  // NaN -> 0, as tfjs
    case kFloor: return std::floor(x);
    case kCeil: return std::ceil(x);
    case kExpm1: return static_cast<float>(std::expm1(d));
    case kLeakyRelu: return x < 0.f ? static_cast<float>(alpha * d) : x;
    case kRelu6: return x != x ? x : (x > 6.f ? 6.f : (x > 0.f ? x : 0.f));
    case kSoftplus: {
      // tfjs: exp(x) below log(eps)+2, x above -(log(eps)+2), else log(1 + exp(x)); eps = 2^-23
      const double threshold = std::log(1.1920928955078125e-7) + 2.0;
      const double e = std::exp(d);
      if (d < threshold) return static_cast<float>(e);
      if (d > -threshold) return x;
      return static_cast<float>(std::log(1.0 + e));
    }
    case kErf: {
      // tfjs' Abramowitz-Stegun 7.1.26 approximation, in double
      const double sign = d > 0 ? 1.0 : (d < 0 ? -1.0 : d);  // Math.sign (NaN, +-0 stay)
      const double v = std::fabs(d);
      const double t = 1.0 / (1.0 + 0.3275911 * v);
      const double poly = ((((1.061405429 * t + -1.453152027) * t + 1.421413741) * t + -0.284496736) * t + 0.254829592) * t;
      return static_cast<float>(sign * (1.0 - poly * std::exp(-v * v)));
    }
    case kElu: return x >= 0.f ? x : static_cast<float>(std::exp(d) - 1.0);
    case kRound: {  // banker's rounding, as tfjs
      const double base = std::floor(d);
      if (d - base < 0.5) return static_cast<float>(base);
      if (d - base > 0.5) return static_cast<float>(std::ceil(d));
      return static_cast<float>(std::fmod(base, 2.0) == 0.0 ? base : base + 1.0);
    }
    case kSin: return static_cast<float>(std::sin(d));
    case kCos: return static_cast<float>(std::cos(d));
  }
  return NAN;
}

// ---- binary ----
// Math.max / Math.min: NaN if either is NaN; +0 is larger than -0.
double JsMax(double a, double b) {
  if (a != a || b != b) return NAN;
  if (a != b) return a > b ? a : b;
  return std::signbit(a) ? b : a;
}
double JsMin(double a, double b) {
  if (a != a || b != b) return NAN;
  if (a != b) return a < b ? a : b;
  return std::signbit(a) ? a : b;
}
// Math.pow differs from C pow where the exponent is NaN (C: pow(1, NaN) = 1) and for
// (+-1) ** (+-inf) (C: 1): JS gives NaN.
double JsPow(double a, double b) {
  if (b != b) return NAN;
  if (std::isinf(b) && std::fabs(a) == 1.0) return NAN;
  return std::pow(a, b);
}
// tfjs Mod: JS % (fmod), then shifted into the divisor's sign when the signs differ.
double JsMod(double a, double b) {
  const double r = std::fmod(a, b);
  if ((a < 0 && b < 0) || (a >= 0 && b >= 0)) return r;
  return std::fmod(r + b, b);
}

// Arithmetic on the double values of the operands, as tfjs' op callbacks do.
double ArithRef(int op, double a, double b) {
  switch (op) {
    case kAdd: return a + b;
    case kSub: return a - b;
    case kMul: return a * b;
    case kDiv: return a / b;
    case kMax: return JsMax(a, b);
    case kMin: return JsMin(a, b);
    case kSqDiff: { const double d = a - b; return d * d; }
    case kPow: return JsPow(a, b);
    case kFloorDiv: return std::floor(a / b);
    case kMod: return JsMod(a, b);
  }
  return NAN;
}

int32_t CompareRef(int op, double a, double b) {
  switch (op) {
    case kEqual: return a == b;
    case kNotEqual: return a != b;
    case kGreater: return a > b;
    case kGreaterEqual: return a >= b;
    case kLess: return a < b;
    case kLessEqual: return a <= b;
    case kLogicalAnd: return a != 0 && b != 0;
    case kLogicalOr: return a != 0 || b != 0;
  }
  return 0;
}

// out element i = f(a[ia], b[ib]) with ia, ib from i's coordinates in `shape` (plain decode).
void BinaryRef(int op, const void* a, const void* b, void* out, int rank, const int64_t* shape, const int64_t* sa,
               const int64_t* sb, int inDtype) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d) n *= shape[d];
  const bool isFloat = inDtype == kF32;
  const float* af = static_cast<const float*>(a);
  const float* bf = static_cast<const float*>(b);
  const int32_t* ai = static_cast<const int32_t*>(a);
  const int32_t* bi = static_cast<const int32_t*>(b);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t c = rem % shape[d];
      rem /= shape[d];
      ia += c * sa[d];
      ib += c * sb[d];
    }
    const double x = isFloat ? static_cast<double>(af[ia]) : static_cast<double>(ai[ia]);
    const double y = isFloat ? static_cast<double>(bf[ib]) : static_cast<double>(bi[ib]);
    if (op >= kEqual) {
      static_cast<int32_t*>(out)[i] = CompareRef(op, x, y);
    } else if (isFloat) {
      static_cast<float*>(out)[i] = static_cast<float>(ArithRef(op, x, y));
    } else {
      static_cast<int32_t*>(out)[i] = ToInt32(ArithRef(op, x, y));
    }
  }
}

void SelectRef(const int32_t* cond, const uint32_t* a, const uint32_t* b, uint32_t* out, int rank,
               const int64_t* shape, const int64_t* sc, const int64_t* sa, const int64_t* sb) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d) n *= shape[d];
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, ic = 0, ia = 0, ib = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t c = rem % shape[d];
      rem /= shape[d];
      ic += c * sc[d];
      ia += c * sa[d];
      ib += c * sb[d];
    }
    out[i] = cond[ic] != 0 ? a[ia] : b[ib];
  }
}

// ---- argument helpers ----
bool CheckDType(Napi::Env env, int64_t dt, const char* what) {
  if (dt < kF32 || dt > kBool) {
    Throw(env, std::string(what) + ": unknown dtype code " + std::to_string(dt));
    return false;
  }
  return true;
}

// Reads the broadcast space: shape (argument si) and `k` stride arrays (arguments si+1..si+k),
// all of one rank, non-negative. need[j] = elements operand j spans. false after throwing.
bool BroadcastArgs(const Napi::CallbackInfo& info, size_t si, int k, const char* what, int* rank, int64_t* shape,
                   int64_t (*strides)[kMaxDims], int64_t* n, int64_t* need) {
  const int r = DimsArg(info, si, shape, what);
  if (r < 0) return false;
  *n = 1;
  for (int d = 0; d < r; ++d) {
    if (shape[d] < 0) {
      Throw(info.Env(), std::string(what) + ": negative dimension in the output shape");
      return false;
    }
    *n *= shape[d];
  }
  for (int j = 0; j < k; ++j) {
    const int rj = DimsArg(info, si + 1 + j, strides[j], what);
    if (rj < 0) return false;
    if (rj != r) {
      Throw(info.Env(), std::string(what) + ": strides argument " + std::to_string(si + 1 + j) + " has rank " +
                            std::to_string(rj) + ", the shape has " + std::to_string(r));
      return false;
    }
    int64_t last = 0;  // largest element offset this operand reads
    for (int d = 0; d < r; ++d) {
      if (strides[j][d] < 0) {
        Throw(info.Env(), std::string(what) + ": negative stride in argument " + std::to_string(si + 1 + j));
        return false;
      }
      if (shape[d] > 0) last += (shape[d] - 1) * strides[j][d];
    }
    need[j] = *n == 0 ? 0 : last + 1;
  }
  *rank = r;
  return true;
}

#if defined(DILEMMA_HAVE_CUDA)
// Drops size-1 axes and merges axis d into the previous one when every operand is contiguous
// across the pair, so [.., D] + [D], same-shape and scalar operands become rank 1 or 2.
EwDims MergeDims(int rank, const int64_t* shape, const int64_t (*strides)[kMaxDims], int k) {
  EwDims m{};
  m.rank = 0;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 1) continue;
    bool merge = m.rank > 0;
    for (int j = 0; j < k && merge; ++j) merge = m.stride[j][m.rank - 1] == strides[j][d] * shape[d];
    if (merge) {
      m.shape[m.rank - 1] *= shape[d];
      for (int j = 0; j < k; ++j) m.stride[j][m.rank - 1] = strides[j][d];
    } else {
      m.shape[m.rank] = shape[d];
      for (int j = 0; j < k; ++j) m.stride[j][m.rank] = strides[j][d];
      ++m.rank;
    }
  }
  if (m.rank == 0) {  // every axis had size 1: one element
    m.rank = 1;
    m.shape[0] = 1;
    for (int j = 0; j < 3; ++j) m.stride[j][0] = 0;
  }
  return m;
}
#endif

// ---- N-API entries ----

// fill(out, n, value, dtype)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCount(info, 4, "fill")) return env.Undefined();
  const int64_t n = CountArg(info, 1, "fill");
  if (n < 0) return env.Undefined();
  const double value = NumArg(info, 2);
  const int64_t dt = IntArg(info, 3);
  if (env.IsExceptionPending() || !CheckDType(env, dt, "fill")) return env.Undefined();
  Buf* out = BufArg(info, 0, static_cast<size_t>(n) * 4, "fill out");
  if (!out) return env.Undefined();
  uint32_t bits;
  if (dt == kF32) {
    const float f = static_cast<float>(value);
    std::memcpy(&bits, &f, 4);
  } else {
    const int32_t v = dt == kI32 ? ToInt32(value) : (value != 0 ? 1 : 0);  // bool: NaN counts as true
    std::memcpy(&bits, &v, 4);
  }
  if (n == 0) return env.Undefined();
  if (out->where == Where::kHost) {
    uint32_t* o = static_cast<uint32_t*>(out->ptr);
    for (int64_t i = 0; i < n; ++i) o[i] = bits;
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, FillCuda(out->ptr, n, bits, Stream()), "fill");
#endif
  return env.Undefined();
}

// cast(x, out, n, from, to)
Napi::Value Cast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCount(info, 5, "cast")) return env.Undefined();
  const int64_t n = CountArg(info, 2, "cast");
  if (n < 0) return env.Undefined();
  const int64_t from = IntArg(info, 3), to = IntArg(info, 4);
  if (env.IsExceptionPending() || !CheckDType(env, from, "cast") || !CheckDType(env, to, "cast")) return env.Undefined();
  Buf *x, *out;
  Where where;
  if (!BufArgs(info, "cast", {{&x, 0, "x", n}, {&out, 1, "out", n}}, &where) || n == 0) return env.Undefined();
  if (where == Where::kHost) {
    for (int64_t i = 0; i < n; ++i) {
      if (from == kF32) {
        const float v = x->f()[i];
        if (to == kF32) out->f()[i] = v;
        else if (to == kI32) out->i()[i] = ToInt32(v);
        else out->i()[i] = v != 0.f ? 1 : 0;  // NaN != 0: true, as tfjs
      } else {  // int32 and bool are both int32 in memory
        const int32_t v = x->i()[i];
        if (to == kF32) out->f()[i] = static_cast<float>(v);
        else if (to == kI32) out->i()[i] = v;
        else out->i()[i] = v != 0 ? 1 : 0;
      }
    }
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, CastCuda(x->ptr, out->ptr, n, static_cast<int>(from), static_cast<int>(to), Stream()), "cast");
#endif
  return env.Undefined();
}

// unary(op, x, out, n, alpha)
Napi::Value UnaryFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCount(info, 5, "unary")) return env.Undefined();
  const int64_t op = IntArg(info, 0);
  if (env.IsExceptionPending()) return env.Undefined();
  if (!KnownUnary(static_cast<int>(op))) return Throw(env, "unary: unknown op code " + std::to_string(op));
  const int64_t n = CountArg(info, 3, "unary");
  if (n < 0) return env.Undefined();
  const double alpha = NumArg(info, 4);
  if (env.IsExceptionPending()) return env.Undefined();
  Buf *x, *out;
  Where where;
  if (!BufArgs(info, "unary", {{&x, 1, "x", n}, {&out, 2, "out", n}}, &where) || n == 0) return env.Undefined();
  if (where == Where::kHost) {
    if (op == kLogicalNot) {
      for (int64_t i = 0; i < n; ++i) out->i()[i] = x->i()[i] == 0 ? 1 : 0;
    } else {
      for (int64_t i = 0; i < n; ++i) out->f()[i] = UnaryRef(static_cast<int>(op), x->f()[i], alpha);
    }
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  CheckCuda(env, UnaryCuda(static_cast<int>(op), x->ptr, out->ptr, n, alpha, Stream()), "unary");
#endif
  return env.Undefined();
}

// binary(op, a, b, out, shape, aStrides, bStrides, inDtype)
Napi::Value BinaryFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCount(info, 8, "binary")) return env.Undefined();
  const int64_t op = IntArg(info, 0);
  const int64_t dt = IntArg(info, 7);
  if (env.IsExceptionPending()) return env.Undefined();
  if (!KnownBinary(static_cast<int>(op))) return Throw(env, "binary: unknown op code " + std::to_string(op));
  if (!CheckDType(env, dt, "binary")) return env.Undefined();
  int rank;
  int64_t shape[kMaxDims], strides[3][kMaxDims], n, need[2];
  if (!BroadcastArgs(info, 4, 2, "binary", &rank, shape, strides, &n, need)) return env.Undefined();
  Buf *a, *b, *out;
  Where where;
  if (!BufArgs(info, "binary", {{&a, 1, "a", need[0]}, {&b, 2, "b", need[1]}, {&out, 3, "out", n}}, &where) || n == 0)
    return env.Undefined();
  // int32 and bool operands are both int32 in memory
  const int inDtype = dt == kF32 ? kF32 : kI32;
  if (where == Where::kHost) {
    BinaryRef(static_cast<int>(op), a->ptr, b->ptr, out->ptr, rank, shape, strides[0], strides[1], inDtype);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  const EwDims m = MergeDims(rank, shape, strides, 2);
  CheckCuda(env, BinaryCuda(static_cast<int>(op), a->ptr, b->ptr, out->ptr, n, m, inDtype, Stream()), "binary");
#endif
  return env.Undefined();
}

// select(cond, a, b, out, shape, cStrides, aStrides, bStrides)
Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCount(info, 8, "select")) return env.Undefined();
  int rank;
  int64_t shape[kMaxDims], strides[3][kMaxDims], n, need[3];
  if (!BroadcastArgs(info, 4, 3, "select", &rank, shape, strides, &n, need)) return env.Undefined();
  Buf *c, *a, *b, *out;
  Where where;
  if (!BufArgs(info, "select",
               {{&c, 0, "cond", need[0]}, {&a, 1, "a", need[1]}, {&b, 2, "b", need[2]}, {&out, 3, "out", n}}, &where) ||
      n == 0)
    return env.Undefined();
  if (where == Where::kHost) {
    SelectRef(c->i(), static_cast<const uint32_t*>(a->ptr), static_cast<const uint32_t*>(b->ptr),
              static_cast<uint32_t*>(out->ptr), rank, shape, strides[0], strides[1], strides[2]);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  const EwDims m = MergeDims(rank, shape, strides, 3);
  CheckCuda(env, SelectCuda(c->i(), a->ptr, b->ptr, out->ptr, n, m, Stream()), "select");
#endif
  return env.Undefined();
}

// addN(out, inputs[], n)
Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCount(info, 3, "addN")) return env.Undefined();
  const int64_t n = CountArg(info, 2, "addN");
  if (n < 0) return env.Undefined();
  const size_t bytes = static_cast<size_t>(n) * 4;
  Buf* out = BufArg(info, 0, bytes, "addN out");
  if (!out) return env.Undefined();
  if (!info[1].IsArray()) return Throw(env, "addN: argument 1 must be an array of buffer ids");
  Napi::Array arr = info[1].As<Napi::Array>();
  const uint32_t count = arr.Length();
  if (count == 0) return Throw(env, "addN: needs at least one input");
  std::vector<Buf*> ins(count);
  Where where = out->where;
  for (uint32_t k = 0; k < count; ++k) {
    const Napi::Value id = arr.Get(k);
    if (env.IsExceptionPending()) return env.Undefined();
    // (errors read "addN input: argument 0 ..." whichever input k it is: addN's messages)
    ins[k] = BufValue(env, id, 0, bytes, "addN input");
    if (ins[k] == nullptr) return env.Undefined();
    Where w;
    if (!SameDevice(info, "addN", {out, ins[k]}, &w)) return env.Undefined();
  }
  // The CUDA launcher sums at most 8 inputs per launch and later launches re-read `out` as the
  // running sum: an input that is `out` itself would then be read after it was overwritten.
  // Rejected on both devices (as matMul does), so they keep one contract.
  for (uint32_t k = 0; k < count; ++k)
    if (ins[k] == out) return Throw(env, "addN: out must not be an input buffer");
  if (n == 0) return env.Undefined();
  if (where == Where::kHost) {
    float* o = out->f();
    for (int64_t i = 0; i < n; ++i) {
      float acc = 0.f;  // tfjs starts from a zero-filled buffer (so -0 inputs sum to +0)
      for (uint32_t k = 0; k < count; ++k) acc += ins[k]->f()[i];
      o[i] = acc;
    }
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  std::vector<const float*> ptrs(count);
  for (uint32_t k = 0; k < count; ++k) ptrs[k] = ins[k]->f();
  CheckCuda(env, AddNCuda(out->f(), ptrs.data(), static_cast<int>(count), n, Stream()), "addN");
#endif
  return env.Undefined();
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object gpu) {
  gpu.Set("fill", Napi::Function::New(env, Fill, "fill"));
  gpu.Set("cast", Napi::Function::New(env, Cast, "cast"));
  gpu.Set("unary", Napi::Function::New(env, UnaryFn, "unary"));
  gpu.Set("binary", Napi::Function::New(env, BinaryFn, "binary"));
  gpu.Set("select", Napi::Function::New(env, Select, "select"));
  gpu.Set("addN", Napi::Function::New(env, AddN, "addN"));
}

}  // namespace dilemma::gpu
