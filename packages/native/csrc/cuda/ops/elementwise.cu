// Elementwise CUDA kernels of the `cuda` backend (launchers: elementwise_cuda.h). The CPU
// references are in elementwise.cc; these kernels compute the same values the same way:
// float32 ops that tfjs evaluates through Math.* run in double and round once (elementwise work
// is memory bound, so FP64 costs little), int32 results go through JS ToInt32.
//
// Every kernel is a grid-stride loop. Contiguous operands (stride 1, or 0 for a broadcast scalar)
// take a flat path that moves 4 elements per 16-byte load/store when the pointers are 16-byte
// aligned (allocator blocks are); other broadcasts decode each output index with the shape.
#include <cuda_runtime.h>
#include <math_constants.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "cuda/ops/elementwise_cuda.h"
#include "op_codes.h"

namespace dilemma::gpu {
namespace {

constexpr int kThreads = 256;

enum Unary { DILEMMA_UNARY_OPS(DILEMMA_OP_ENUMERATOR) };
enum Binary { DILEMMA_BINARY_OPS(DILEMMA_OP_ENUMERATOR) };
enum DT { kF32 = 0, kI32 = 1, kBool = 2 };

unsigned Grid(int64_t work) {
  int64_t g = (work + kThreads - 1) / kThreads;
  if (g < 1) g = 1;
  if (g > 65535LL * 16) g = 65535LL * 16;  // the grid-stride loops cover the rest
  return static_cast<unsigned>(g);
}

bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Four 4-byte elements moved as one 128-bit access.
template <class T>
struct alignas(16) V4 {
  T v[4];
};

__device__ __forceinline__ int64_t GlobalThread() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t GridStride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// JS ToInt32 (what storing into an Int32Array does): truncate, wrap mod 2^32, NaN/inf -> 0.
__device__ __forceinline__ int32_t ToInt32(double x) {
  if (!isfinite(x)) return 0;
  double m = fmod(trunc(x), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// ---------------------------------------------------------------- unary / cast / fill functors
template <int OP>
struct UnaryOp {
  double alpha;
  __device__ __forceinline__ float operator()(float x) const {
    const double d = x;
    if constexpr (OP == kAbs) return fabsf(x);
    else if constexpr (OP == kExp) return static_cast<float>(exp(d));
    else if constexpr (OP == kLog) return static_cast<float>(log(d));
    else if constexpr (OP == kLog1p) return static_cast<float>(log1p(d));
    else if constexpr (OP == kNeg) return -x;
    else if constexpr (OP == kRelu) return x > 0.f ? x : (x != x ? x : 0.f);
    else if constexpr (OP == kRsqrt) return static_cast<float>(1.0 / sqrt(d));
    else if constexpr (OP == kSqrt) return __fsqrt_rn(x);
    else if constexpr (OP == kSquare) return __fmul_rn(x, x);
    else if constexpr (OP == kStep) return x != x ? x : (x > 0.f ? 1.f : static_cast<float>(alpha));
    else if constexpr (OP == kSigmoid) return static_cast<float>(1.0 / (1.0 + exp(-d)));
    else if constexpr (OP == kTanh) return static_cast<float>(tanh(d));
    else if constexpr (OP == kReciprocal) return __fdiv_rn(1.f, x);
    else if constexpr (OP == kSign) return x < 0.f ? -1.f : (x > 0.f ? 1.f : 0.f);
    else if constexpr (OP == kFloor) return floorf(x);
    else if constexpr (OP == kCeil) return ceilf(x);
    else if constexpr (OP == kExpm1) return static_cast<float>(expm1(d));
    else if constexpr (OP == kLeakyRelu) return x < 0.f ? static_cast<float>(__dmul_rn(alpha, d)) : x;
    else if constexpr (OP == kRelu6) return x != x ? x : (x > 6.f ? 6.f : (x > 0.f ? x : 0.f));
    else if constexpr (OP == kSoftplus) {
      const double threshold = -13.942385152878742;  // log(2^-23) + 2, as tfjs
      if (d < threshold) return static_cast<float>(exp(d));
      if (d > -threshold) return x;
      return static_cast<float>(log(__dadd_rn(1.0, exp(d))));
    } else if constexpr (OP == kErf) {
      // tfjs' Abramowitz-Stegun 7.1.26 approximation in double; _rn ops keep it unfused, like JS
      const double sign = d > 0 ? 1.0 : (d < 0 ? -1.0 : d);
      const double v = fabs(d);
      const double t = __drcp_rn(__dadd_rn(1.0, __dmul_rn(0.3275911, v)));
      double p = __dadd_rn(__dmul_rn(1.061405429, t), -1.453152027);
      p = __dadd_rn(__dmul_rn(p, t), 1.421413741);
      p = __dadd_rn(__dmul_rn(p, t), -0.284496736);
      p = __dadd_rn(__dmul_rn(p, t), 0.254829592);
      p = __dmul_rn(p, t);
      return static_cast<float>(__dmul_rn(sign, __dsub_rn(1.0, __dmul_rn(p, exp(-__dmul_rn(v, v))))));
    } else if constexpr (OP == kElu) return x >= 0.f ? x : static_cast<float>(__dsub_rn(exp(d), 1.0));
    else if constexpr (OP == kRound) {  // banker's rounding
      const double base = floor(d);
      const double frac = __dsub_rn(d, base);
      if (frac < 0.5) return static_cast<float>(base);
      if (frac > 0.5) return static_cast<float>(ceil(d));
      return static_cast<float>(fmod(base, 2.0) == 0.0 ? base : __dadd_rn(base, 1.0));
    } else if constexpr (OP == kSin) return static_cast<float>(sin(d));
    else return static_cast<float>(cos(d));
  }
};

struct LogicalNotOp {
  __device__ __forceinline__ int32_t operator()(int32_t x) const { return x == 0 ? 1 : 0; }
};

template <int FROM, int TO>
struct CastOp {
  using In = typename std::conditional<FROM == kF32, float, int32_t>::type;
  using Out = typename std::conditional<TO == kF32, float, int32_t>::type;
  __device__ __forceinline__ Out operator()(In x) const {
    if constexpr (TO == kBool) return x != 0 ? 1 : 0;  // float NaN != 0: true
    else if constexpr (FROM == kF32 && TO == kI32) return ToInt32(static_cast<double>(x));
    else return static_cast<Out>(x);  // int32/bool -> float32 (rounded), or same representation
  }
};

// out[i] = f(x[i]); vec: x and out 16-byte aligned, so groups of 4 go as 128-bit accesses.
template <class F, class I, class O>
__global__ void Map1Kernel(const I* __restrict__ x, O* __restrict__ out, int64_t n, bool vec, F f) {
  const int64_t t = GlobalThread(), stride = GridStride();
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = t; i < n4; i += stride) {
    const V4<I> v = reinterpret_cast<const V4<I>*>(x)[i];
    V4<O> r;
#pragma unroll
    for (int k = 0; k < 4; ++k) r.v[k] = f(v.v[k]);
    reinterpret_cast<V4<O>*>(out)[i] = r;
  }
  for (int64_t i = n4 * 4 + t; i < n; i += stride) out[i] = f(x[i]);
}

template <class F, class I, class O>
cudaError_t Map1(const void* x, void* out, int64_t n, F f, cudaStream_t s) {
  const bool vec = Aligned16(x) && Aligned16(out);
  Map1Kernel<F, I, O><<<Grid(vec ? (n + 3) / 4 : n), kThreads, 0, s>>>(static_cast<const I*>(x), static_cast<O*>(out),
                                                                        n, vec, f);
  return cudaGetLastError();
}

__global__ void FillKernel(uint32_t* __restrict__ out, int64_t n, bool vec, uint32_t bits) {
  const int64_t t = GlobalThread(), stride = GridStride();
  const int64_t n4 = vec ? n / 4 : 0;
  V4<uint32_t> r;
#pragma unroll
  for (int k = 0; k < 4; ++k) r.v[k] = bits;
  for (int64_t i = t; i < n4; i += stride) reinterpret_cast<V4<uint32_t>*>(out)[i] = r;
  for (int64_t i = n4 * 4 + t; i < n; i += stride) out[i] = bits;
}

// ---------------------------------------------------------------- binary functors
__device__ __forceinline__ double JsMax(double a, double b) {
  if (a != a || b != b) return CUDART_NAN;
  if (a != b) return a > b ? a : b;
  return signbit(a) ? b : a;  // +0 is the larger zero
}
__device__ __forceinline__ double JsMin(double a, double b) {
  if (a != a || b != b) return CUDART_NAN;
  if (a != b) return a < b ? a : b;
  return signbit(a) ? a : b;
}
__device__ __forceinline__ double JsPow(double a, double b) {
  if (b != b) return CUDART_NAN;                      // C: pow(1, NaN) = 1
  if (isinf(b) && fabs(a) == 1.0) return CUDART_NAN;  // C: pow(-1, inf) = 1
  return pow(a, b);
}
__device__ __forceinline__ double JsMod(double a, double b) {
  const double r = fmod(a, b);
  if ((a < 0 && b < 0) || (a >= 0 && b >= 0)) return r;
  return fmod(__dadd_rn(r, b), b);
}

// Arithmetic in double, as the JS callbacks of tfjs (Add/Sub/Mul/Div/Max/Min of float32 are
// equal in float, used for speed; int32 Add/Sub wrap exactly like ToInt32 of the exact sum).
template <int OP>
__device__ __forceinline__ double ArithD(double a, double b) {
  if constexpr (OP == kAdd) return __dadd_rn(a, b);
  else if constexpr (OP == kSub) return __dsub_rn(a, b);
  else if constexpr (OP == kMul) return __dmul_rn(a, b);
  else if constexpr (OP == kDiv) return __ddiv_rn(a, b);
  else if constexpr (OP == kMax) return JsMax(a, b);
  else if constexpr (OP == kMin) return JsMin(a, b);
  else if constexpr (OP == kSqDiff) {
    const double d = __dsub_rn(a, b);
    return __dmul_rn(d, d);
  } else if constexpr (OP == kPow) return JsPow(a, b);
  else if constexpr (OP == kFloorDiv) return floor(__ddiv_rn(a, b));
  else return JsMod(a, b);
}

template <int OP, class T>
struct BinaryOp {
  static constexpr bool kBoolOut = OP >= kEqual;
  using Out = typename std::conditional<kBoolOut || std::is_same<T, int32_t>::value, int32_t, float>::type;
  __device__ __forceinline__ Out operator()(T a, T b) const {
    if constexpr (OP == kEqual) return a == b;
    else if constexpr (OP == kNotEqual) return a != b;
    else if constexpr (OP == kGreater) return a > b;
    else if constexpr (OP == kGreaterEqual) return a >= b;
    else if constexpr (OP == kLess) return a < b;
    else if constexpr (OP == kLessEqual) return a <= b;
    else if constexpr (OP == kLogicalAnd) return a != 0 && b != 0;
    else if constexpr (OP == kLogicalOr) return a != 0 || b != 0;
    else if constexpr (std::is_same<T, float>::value) {
      if constexpr (OP == kAdd) return __fadd_rn(a, b);
      else if constexpr (OP == kSub) return __fsub_rn(a, b);
      else if constexpr (OP == kMul) return __fmul_rn(a, b);
      else if constexpr (OP == kDiv) return __fdiv_rn(a, b);
      else return static_cast<float>(ArithD<OP>(a, b));
    } else {  // int32
      if constexpr (OP == kAdd) return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
      else if constexpr (OP == kSub) return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
      else if constexpr (OP == kMax) return a > b ? a : b;
      else if constexpr (OP == kMin) return a < b ? a : b;
      else return ToInt32(ArithD<OP>(static_cast<double>(a), static_cast<double>(b)));
    }
  }
};

// Flat path: out[i] = f(a[i*sa], b[i*sb]) with sa, sb in {0, 1}.
template <class F, class T, class O>
__global__ void Map2FlatKernel(const T* __restrict__ a, const T* __restrict__ b, O* __restrict__ out, int64_t n, int sa,
                               int sb, bool vec, F f) {
  const int64_t t = GlobalThread(), stride = GridStride();
  const int64_t n4 = vec ? n / 4 : 0;
  const T a0 = sa == 0 ? a[0] : T(), b0 = sb == 0 ? b[0] : T();
  for (int64_t i = t; i < n4; i += stride) {
    V4<T> va, vb;
    if (sa) va = reinterpret_cast<const V4<T>*>(a)[i];
    else va = V4<T>{{a0, a0, a0, a0}};
    if (sb) vb = reinterpret_cast<const V4<T>*>(b)[i];
    else vb = V4<T>{{b0, b0, b0, b0}};
    V4<O> r;
#pragma unroll
    for (int k = 0; k < 4; ++k) r.v[k] = f(va.v[k], vb.v[k]);
    reinterpret_cast<V4<O>*>(out)[i] = r;
  }
  for (int64_t i = n4 * 4 + t; i < n; i += stride) out[i] = f(sa ? a[i] : a0, sb ? b[i] : b0);
}

// General path: decode i into coordinates of d.shape (row-major), offsets from the strides.
// Idx is int32_t when every index and offset fits, which makes the divisions much cheaper.
template <class Idx, int K>
__device__ __forceinline__ void Offsets(Idx i, const EwDims& d, Idx* off) {
#pragma unroll
  for (int k = 0; k < K; ++k) off[k] = 0;
  for (int ax = d.rank - 1; ax >= 0; --ax) {
    const Idx size = static_cast<Idx>(d.shape[ax]);
    const Idx q = i / size;
    const Idx c = i - q * size;
    i = q;
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] += c * static_cast<Idx>(d.stride[k][ax]);
  }
}

template <class Idx, class F, class T, class O>
__global__ void Map2StridedKernel(const T* __restrict__ a, const T* __restrict__ b, O* __restrict__ out, Idx n,
                                  EwDims d, F f) {
  const Idx stride = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Idx off[2];
    Offsets<Idx, 2>(i, d, off);
    out[i] = f(a[off[0]], b[off[1]]);
  }
}

// True when every element index of the space and every operand offset fits in int32 (with room
// for the grid stride added to the index).
bool Fits32(int64_t n, const EwDims& d, int k) {
  const int64_t lim = (int64_t{1} << 31) - 1 - int64_t{65535} * 16 * kThreads;
  if (n > lim) return false;
  for (int j = 0; j < k; ++j) {
    int64_t last = 0;
    for (int ax = 0; ax < d.rank; ++ax) last += (d.shape[ax] - 1) * d.stride[j][ax];
    if (last > lim) return false;
  }
  return true;
}

template <int OP, class T>
cudaError_t Binary(const void* a, const void* b, void* out, int64_t n, const EwDims& d, cudaStream_t s) {
  using F = BinaryOp<OP, T>;
  using O = typename F::Out;
  const T* pa = static_cast<const T*>(a);
  const T* pb = static_cast<const T*>(b);
  O* po = static_cast<O*>(out);
  const int64_t sa = d.stride[0][0], sb = d.stride[1][0];
  if (d.rank == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1)) {
    const bool vec = (sa == 0 || Aligned16(a)) && (sb == 0 || Aligned16(b)) && Aligned16(out);
    Map2FlatKernel<F, T, O><<<Grid(vec ? (n + 3) / 4 : n), kThreads, 0, s>>>(pa, pb, po, n, static_cast<int>(sa),
                                                                              static_cast<int>(sb), vec, F{});
  } else if (Fits32(n, d, 2)) {
    Map2StridedKernel<int32_t, F, T, O><<<Grid(n), kThreads, 0, s>>>(pa, pb, po, static_cast<int32_t>(n), d, F{});
  } else {
    Map2StridedKernel<int64_t, F, T, O><<<Grid(n), kThreads, 0, s>>>(pa, pb, po, n, d, F{});
  }
  return cudaGetLastError();
}

template <class T>
cudaError_t BinaryDispatch(int op, const void* a, const void* b, void* out, int64_t n, const EwDims& d,
                           cudaStream_t s) {
  switch (op) {
    case kAdd: return Binary<kAdd, T>(a, b, out, n, d, s);
    case kSub: return Binary<kSub, T>(a, b, out, n, d, s);
    case kMul: return Binary<kMul, T>(a, b, out, n, d, s);
    case kDiv: return Binary<kDiv, T>(a, b, out, n, d, s);
    case kMax: return Binary<kMax, T>(a, b, out, n, d, s);
    case kMin: return Binary<kMin, T>(a, b, out, n, d, s);
    case kSqDiff: return Binary<kSqDiff, T>(a, b, out, n, d, s);
    case kPow: return Binary<kPow, T>(a, b, out, n, d, s);
    case kFloorDiv: return Binary<kFloorDiv, T>(a, b, out, n, d, s);
    case kMod: return Binary<kMod, T>(a, b, out, n, d, s);
    case kEqual: return Binary<kEqual, T>(a, b, out, n, d, s);
    case kNotEqual: return Binary<kNotEqual, T>(a, b, out, n, d, s);
    case kGreater: return Binary<kGreater, T>(a, b, out, n, d, s);
    case kGreaterEqual: return Binary<kGreaterEqual, T>(a, b, out, n, d, s);
    case kLess: return Binary<kLess, T>(a, b, out, n, d, s);
    case kLessEqual: return Binary<kLessEqual, T>(a, b, out, n, d, s);
    case kLogicalAnd: return Binary<kLogicalAnd, T>(a, b, out, n, d, s);
    case kLogicalOr: return Binary<kLogicalOr, T>(a, b, out, n, d, s);
  }
  return cudaErrorInvalidValue;
}

// ---------------------------------------------------------------- select
template <class Idx>
__global__ void SelectStridedKernel(const int32_t* __restrict__ c, const uint32_t* __restrict__ a,
                                    const uint32_t* __restrict__ b, uint32_t* __restrict__ out, Idx n, EwDims d) {
  const Idx stride = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Idx off[3];
    Offsets<Idx, 3>(i, d, off);
    out[i] = c[off[0]] != 0 ? a[off[1]] : b[off[2]];
  }
}

// Flat select: every operand has stride 0 or 1 (a scalar condition included).
__global__ void SelectFlatKernel(const int32_t* __restrict__ c, const uint32_t* __restrict__ a,
                                 const uint32_t* __restrict__ b, uint32_t* __restrict__ out, int64_t n, int sc, int sa,
                                 int sb) {
  const int64_t stride = GridStride();
  for (int64_t i = GlobalThread(); i < n; i += stride) out[i] = c[i * sc] != 0 ? a[i * sa] : b[i * sb];
}

// ---------------------------------------------------------------- addN
constexpr int kAddNChunk = 8;
struct Ptrs {
  const float* p[kAddNChunk];
};

// out[i] = (accumulate ? out[i] : 0) + in[0][i] + ... + in[count-1][i], left to right.
__global__ void AddNKernel(float* __restrict__ out, Ptrs in, int count, bool accumulate, int64_t n) {
  const int64_t stride = GridStride();
  for (int64_t i = GlobalThread(); i < n; i += stride) {
    float acc = accumulate ? out[i] : 0.f;
    for (int k = 0; k < count; ++k) acc = __fadd_rn(acc, in.p[k][i]);
    out[i] = acc;
  }
}

}  // namespace

cudaError_t FillCuda(void* out, int64_t n, uint32_t bits, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool vec = Aligned16(out);
  FillKernel<<<Grid(vec ? (n + 3) / 4 : n), kThreads, 0, stream>>>(static_cast<uint32_t*>(out), n, vec, bits);
  return cudaGetLastError();
}

cudaError_t CastCuda(const void* x, void* out, int64_t n, int from, int to, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  // int32 and bool share their representation: only the target matters for them
  if (from == kF32) {
    if (to == kF32) return Map1<CastOp<kF32, kF32>, float, float>(x, out, n, CastOp<kF32, kF32>{}, stream);
    if (to == kI32) return Map1<CastOp<kF32, kI32>, float, int32_t>(x, out, n, CastOp<kF32, kI32>{}, stream);
    return Map1<CastOp<kF32, kBool>, float, int32_t>(x, out, n, CastOp<kF32, kBool>{}, stream);
  }
  if (to == kF32) return Map1<CastOp<kI32, kF32>, int32_t, float>(x, out, n, CastOp<kI32, kF32>{}, stream);
  if (to == kI32) return Map1<CastOp<kI32, kI32>, int32_t, int32_t>(x, out, n, CastOp<kI32, kI32>{}, stream);
  return Map1<CastOp<kI32, kBool>, int32_t, int32_t>(x, out, n, CastOp<kI32, kBool>{}, stream);
}

cudaError_t UnaryCuda(int op, const void* x, void* out, int64_t n, double alpha, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
#define DILEMMA_UNARY_CASE(OP) \
  case OP: return Map1<UnaryOp<OP>, float, float>(x, out, n, UnaryOp<OP>{alpha}, stream);
  switch (op) {
    DILEMMA_UNARY_CASE(kAbs) DILEMMA_UNARY_CASE(kExp) DILEMMA_UNARY_CASE(kLog) DILEMMA_UNARY_CASE(kLog1p)
    DILEMMA_UNARY_CASE(kNeg) DILEMMA_UNARY_CASE(kRelu) DILEMMA_UNARY_CASE(kRsqrt) DILEMMA_UNARY_CASE(kSqrt)
    DILEMMA_UNARY_CASE(kSquare) DILEMMA_UNARY_CASE(kStep) DILEMMA_UNARY_CASE(kSigmoid) DILEMMA_UNARY_CASE(kTanh)
    DILEMMA_UNARY_CASE(kReciprocal) DILEMMA_UNARY_CASE(kSign) DILEMMA_UNARY_CASE(kFloor) DILEMMA_UNARY_CASE(kCeil)
    DILEMMA_UNARY_CASE(kExpm1) DILEMMA_UNARY_CASE(kLeakyRelu) DILEMMA_UNARY_CASE(kRelu6)
    DILEMMA_UNARY_CASE(kSoftplus) DILEMMA_UNARY_CASE(kErf) DILEMMA_UNARY_CASE(kElu) DILEMMA_UNARY_CASE(kRound)
    DILEMMA_UNARY_CASE(kSin) DILEMMA_UNARY_CASE(kCos)
    case kLogicalNot: return Map1<LogicalNotOp, int32_t, int32_t>(x, out, n, LogicalNotOp{}, stream);
  }
#undef DILEMMA_UNARY_CASE
  return cudaErrorInvalidValue;
}

cudaError_t BinaryCuda(int op, const void* a, const void* b, void* out, int64_t n, const EwDims& d, int inDtype,
                       cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return inDtype == kF32 ? BinaryDispatch<float>(op, a, b, out, n, d, stream)
                         : BinaryDispatch<int32_t>(op, a, b, out, n, d, stream);
}

cudaError_t SelectCuda(const int32_t* cond, const void* a, const void* b, void* out, int64_t n, const EwDims& d,
                       cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const uint32_t* pa = static_cast<const uint32_t*>(a);
  const uint32_t* pb = static_cast<const uint32_t*>(b);
  uint32_t* po = static_cast<uint32_t*>(out);
  bool flat = d.rank == 1;
  for (int k = 0; k < 3 && flat; ++k) flat = d.stride[k][0] == 0 || d.stride[k][0] == 1;
  if (flat) {
    SelectFlatKernel<<<Grid(n), kThreads, 0, stream>>>(cond, pa, pb, po, n, static_cast<int>(d.stride[0][0]),
                                                       static_cast<int>(d.stride[1][0]),
                                                       static_cast<int>(d.stride[2][0]));
  } else if (Fits32(n, d, 3)) {
    SelectStridedKernel<int32_t><<<Grid(n), kThreads, 0, stream>>>(cond, pa, pb, po, static_cast<int32_t>(n), d);
  } else {
    SelectStridedKernel<int64_t><<<Grid(n), kThreads, 0, stream>>>(cond, pa, pb, po, n, d);
  }
  return cudaGetLastError();
}

cudaError_t AddNCuda(float* out, const float* const* inputs, int count, int64_t n, cudaStream_t stream) {
  if (n <= 0 || count <= 0) return cudaSuccess;
  // Up to kAddNChunk inputs per launch; later launches add onto out in input order, so the sum
  // is rounded exactly like the reference's left-to-right loop.
  for (int k0 = 0; k0 < count; k0 += kAddNChunk) {
    Ptrs p{};
    const int c = count - k0 < kAddNChunk ? count - k0 : kAddNChunk;
    for (int k = 0; k < c; ++k) p.p[k] = inputs[k0 + k];
    AddNKernel<<<Grid(n), kThreads, 0, stream>>>(out, p, c, k0 > 0, n);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

}  // namespace dilemma::gpu
