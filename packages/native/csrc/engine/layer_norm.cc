// LayerNorm / LayerNormGrad over the last axis (docs/ops.md): the reference's row functions
// (ref/layer_norm.h, statistics in double), the forward's normalisation in float, the parameter
// gradients reduced per row block in double, then summed in a fixed order (deterministic).
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/threadpool.h"
#include "ref/layer_norm.h"

namespace dilemma {
namespace {

// Forward rows: statistics in double, the normalisation itself in float (within an ulp or two
// of doing it in double) so it vectorises; the AVX2 clone is picked at run time.
__attribute__((target_clones("avx2,fma", "default"))) void LayerNormRows(const float* __restrict x,
                                                                      const float* __restrict gamma,
                                                                      const float* __restrict beta,
                                                                      float* __restrict out, int64_t r0, int64_t r1,
                                                                      int64_t D, double eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * D;
    float* o = out + r * D;
    double mean, rstd;
    ref::LayerNormRowStats(xr, D, eps, &mean, &rstd);
    const float m = static_cast<float>(mean), s = static_cast<float>(rstd);
    for (int64_t d = 0; d < D; ++d) o[d] = (xr[d] - m) * s * gamma[d] + beta[d];
  }
}

// layerNorm(x, gamma, beta, out, rows, D, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = IntArg(info, 4), D = IntArg(info, 5);
  const double eps = NumArg(info, 6);
  const float* x = F32Arg(info, 0, rows * D, "layerNorm x");
  if (!x) return env.Undefined();
  const float* gamma = F32Arg(info, 1, D, "layerNorm gamma");
  if (!gamma) return env.Undefined();
  const float* beta = F32Arg(info, 2, D, "layerNorm beta");
  if (!beta) return env.Undefined();
  float* out = F32Arg(info, 3, rows * D, "layerNorm out");
  if (!out) return env.Undefined();
  ParallelFor(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(D, 1)),
              [&](int64_t r0, int64_t r1) { LayerNormRows(x, gamma, beta, out, r0, r1, D, eps); });
  return env.Undefined();
}

// layerNormGrad(dy, x, gamma, dx, dGamma, dBeta, rows, D, eps)
Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = IntArg(info, 6), D = IntArg(info, 7);
  const double eps = NumArg(info, 8);
  const float* dy = F32Arg(info, 0, rows * D, "layerNormGrad dy");
  if (!dy) return env.Undefined();
  const float* x = F32Arg(info, 1, rows * D, "layerNormGrad x");
  if (!x) return env.Undefined();
  const float* gamma = F32Arg(info, 2, D, "layerNormGrad gamma");
  if (!gamma) return env.Undefined();
  float* dx = F32Arg(info, 3, rows * D, "layerNormGrad dx");
  if (!dx) return env.Undefined();
  float* dGamma = F32Arg(info, 4, D, "layerNormGrad dGamma");
  if (!dGamma) return env.Undefined();
  float* dBeta = F32Arg(info, 5, D, "layerNormGrad dBeta");
  if (!dBeta) return env.Undefined();
  // Fixed row blocks (independent of the thread count) keep the parameter sums deterministic.
  const int64_t blockRows = 64;
  const int64_t blocks = std::max<int64_t>(1, (rows + blockRows - 1) / blockRows);
  std::vector<double> partG(blocks * D, 0.0), partB(blocks * D, 0.0);
  ParallelFor(blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<double> xhat(D);
    for (int64_t blk = b0; blk < b1; ++blk) {
      double* pg = partG.data() + blk * D;
      double* pb = partB.data() + blk * D;
      const int64_t rEnd = std::min(rows, (blk + 1) * blockRows);
      for (int64_t r = blk * blockRows; r < rEnd; ++r)
        ref::LayerNormGradRow(dy + r * D, x + r * D, gamma, dx + r * D, pg, pb, D, eps, xhat.data());
    }
  });
  for (int64_t d = 0; d < D; ++d) {
    double g = 0, b = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      g += partG[blk * D + d];
      b += partB[blk * D + d];
    }
    dGamma[d] = static_cast<float>(g);
    dBeta[d] = static_cast<float>(b);
  }
  return env.Undefined();
}

}  // namespace

void RegisterLayerNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad, "layerNormGrad"));
}

}  // namespace dilemma
