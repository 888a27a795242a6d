// LayerNorm over the last axis (docs/ops.md), the scalar CPU reference: biased variance, row
// statistics in double. With xhat = (x - mean) * rstd and g = dy * gamma:
//   out = xhat * gamma + beta
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dGamma = sum_rows dy * xhat, dBeta = sum_rows dy.
// The one C++ copy of these formulas: the cuda backend's host device runs LayerNorm /
// LayerNormGrad below (cuda/ops/layer_norm.cc; layer_norm.cu is checked against them), and the
// CPU engine (engine/layer_norm.cc) builds on the row functions (it normalises the forward in
// float so it vectorises, and sums the parameter gradients per row block over threads). Core's
// TypeScript kernel is the browser's copy.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace dilemma::ref {

/** Mean and 1 / sqrt(var + eps) of one row of d values, in double. */
inline void LayerNormRowStats(const float* x, int64_t d, double eps, double* mean, double* rstd) {
  double m = 0;
  for (int64_t j = 0; j < d; ++j) m += x[j];
  m /= static_cast<double>(d);
  double v = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double c = x[j] - m;
    v += c * c;
  }
  *mean = m;
  *rstd = 1.0 / std::sqrt(v / static_cast<double>(d) + eps);
}

/**
 * One row of the gradient: writes dx, adds dy * xhat to sumG[j] and dy to sumB[j] (double).
 * xhat: scratch for d doubles.
 */
inline void LayerNormGradRow(const float* dy, const float* x, const float* gamma, float* dx, double* sumG,
                             double* sumB, int64_t d, double eps, double* xhat) {
  double mean, rstd;
  LayerNormRowStats(x, d, eps, &mean, &rstd);
  double sg = 0, sgx = 0;
  for (int64_t j = 0; j < d; ++j) {
    xhat[j] = (x[j] - mean) * rstd;
    const double g = static_cast<double>(dy[j]) * gamma[j];
    sg += g;
    sgx += g * xhat[j];
    sumG[j] += dy[j] * xhat[j];
    sumB[j] += dy[j];
  }
  const double mG = sg / static_cast<double>(d), mGX = sgx / static_cast<double>(d);
  for (int64_t j = 0; j < d; ++j)
    dx[j] = static_cast<float>(rstd * (static_cast<double>(dy[j]) * gamma[j] - mG - xhat[j] * mGX));
}

/** x, out [rows, d]: each row normalised in double, rounded once. */
inline void LayerNorm(const float* x, const float* gamma, const float* beta, float* out, int64_t rows, int64_t d,
                      double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    double mean, rstd;
    LayerNormRowStats(xr, d, eps, &mean, &rstd);
    for (int64_t j = 0; j < d; ++j) out[r * d + j] = static_cast<float>((xr[j] - mean) * rstd * gamma[j] + beta[j]);
  }
}

/** dy, x, dx [rows, d]; dGamma, dBeta [d] summed over the rows in order, in double. */
inline void LayerNormGrad(const float* dy, const float* x, const float* gamma, float* dx, float* dGamma,
                          float* dBeta, int64_t rows, int64_t d, double eps) {
  std::vector<double> sumG(d, 0.0), sumB(d, 0.0), xhat(d);
  for (int64_t r = 0; r < rows; ++r)
    LayerNormGradRow(dy + r * d, x + r * d, gamma, dx + r * d, sumG.data(), sumB.data(), d, eps, xhat.data());
  for (int64_t j = 0; j < d; ++j) {
    dGamma[j] = static_cast<float>(sumG[j]);
    dBeta[j] = static_cast<float>(sumB[j]);
  }
}

}  // namespace dilemma::ref
