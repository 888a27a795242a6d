// AdamWUpdate and EmaUpdate, core's fused optimizer ops (docs/cuda-engine.md), the scalar CPU
// reference, bit-identical to core's cpu kernels:
//   AdamW: m' = m*b1 + g*(1-b1);  v' = v*b2 + (g*g)*(1-b2);  d = wd == 0 ? p : p*(1-lr*wd)
//          p' = d - (m' / (sqrt(v')/sqrtBc2 + eps)) * stepSize
//   EMA:   out = target + (source - target)*(1-m), exact where source == target
// The constants are computed in double and rounded to float32 (as the JS numbers become float32
// scalars), then every operation is one float32 operation, rounded, in the order above. Float
// + - * / sqrt of float operands equal the JS double operation rounded to float32, so only
// contraction into FMAs could break this: it is off for these functions (the pragmas below; the
// default x86-64 target has no FMA anyway).
// The one C++ copy: the CPU engine (engine/optim.cc) runs these loops on its pool, the cuda
// backend's host device (cuda/ops/adamw.cc, ema.cc) runs them as the reference adamw.cu /
// ema.cu are checked against (the CUDA kernels take AdamWConsts as they are).
#pragma once
#include <cmath>
#include <cstdint>

namespace dilemma::ref {

/** The AdamW step's constants, rounded to float32 the way core's AdamWUpdate rounds them. */
struct AdamWConsts {
  float b1, c1;  // beta1, 1 - beta1
  float b2, c2;  // beta2, 1 - beta2
  float decay;   // 1 - lr * weightDecay (used only when decays)
  float sqrtBc2, eps, stepSize;
  bool decays;   // weightDecay != 0
};

inline AdamWConsts AdamWConstants(double lr, double beta1, double beta2, double eps, double weightDecay,
                                  double stepSize, double sqrtBc2) {
  return {static_cast<float>(beta1),        static_cast<float>(1.0 - beta1),
          static_cast<float>(beta2),        static_cast<float>(1.0 - beta2),
          static_cast<float>(1.0 - lr * weightDecay),
          static_cast<float>(sqrtBc2),      static_cast<float>(eps),
          static_cast<float>(stepSize),     weightDecay != 0};
}

#if !defined(__CUDACC__)  // host loops; the CUDA kernels use only AdamWConsts
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

/** One AdamW step of elements [i0, i1); outputs may alias inputs (element i is read, then written). */
inline void AdamW(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut,
                  float* vOut, int64_t i0, int64_t i1, const AdamWConsts& c) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  for (int64_t i = i0; i < i1; ++i) {
    const float gi = g[i];
    const float mi = m[i] * c.b1 + gi * c.c1;
    const float vi = v[i] * c.b2 + (gi * gi) * c.c2;
    const float d = c.decays ? p[i] * c.decay : p[i];
    const float denom = std::sqrt(vi) / c.sqrtBc2 + c.eps;
    const float pi = d - (mi / denom) * c.stepSize;
    pOut[i] = pi;  // after every read of element i: outputs may alias inputs
    mOut[i] = mi;
    vOut[i] = vi;
  }
}

/** EMA of elements [i0, i1) with b = float32(1 - momentum); out may alias target or source. */
inline void Ema(const float* target, const float* source, float* out, int64_t i0, int64_t i1, float b) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  for (int64_t i = i0; i < i1; ++i) {
    const float step = (source[i] - target[i]) * b;
    out[i] = target[i] + step;
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#endif  // !__CUDACC__

}  // namespace dilemma::ref
