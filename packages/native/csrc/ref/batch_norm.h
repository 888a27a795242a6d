// BatchNorm1d in training mode on x [B, C] (docs/ops.md), the scalar CPU reference: batch mean
// and biased variance per column in double; weight/bias optional (affine=False: nullptr).
//   y = (x - mean) * rstd * weight + bias,  rstd = 1 / sqrt(var + eps)
//   runningMean' = (1 - m) * runningMean + m * mean;  runningVar' = (1 - m) * runningVar + m * var * B/(B-1)
// Gradient, the statistics recomputed from x, with xhat = (x - mean) * rstd and g = dy * weight:
//   dx = rstd * (g - mean_B(g) - xhat * mean_B(g * xhat)), dWeight = sum_B dy * xhat, dBias = sum_B dy.
// The cuda backend's host device runs these (cuda/ops/batch_norm.cc; batch_norm.cu is checked
// against them). Core's TypeScript kernel (train/ops/batch_norm.ts) is the CPU engines' copy.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace dilemma::ref {

/** Column means and biased variances of x [B, C], in double. */
inline void BatchNormColumnStats(const float* x, int64_t B, int64_t C, std::vector<double>* mean,
                                 std::vector<double>* var) {
  mean->assign(C, 0.0);
  var->assign(C, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) (*mean)[c] += x[b * C + c];
  for (int64_t c = 0; c < C; ++c) (*mean)[c] /= static_cast<double>(B);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const double d = x[b * C + c] - (*mean)[c];
      (*var)[c] += d * d;
    }
  for (int64_t c = 0; c < C; ++c) (*var)[c] /= static_cast<double>(B);
}

/** y [B, C]; new running statistics into rmOut / rvOut [C] (B >= 2). */
inline void BatchNorm1d(const float* x, const float* weight, const float* bias, const float* rm, const float* rv,
                        float* y, float* rmOut, float* rvOut, int64_t B, int64_t C, double eps, double momentum) {
  std::vector<double> mean, var;
  BatchNormColumnStats(x, B, C, &mean, &var);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const double xh = (x[b * C + c] - mean[c]) / std::sqrt(var[c] + eps);
      y[b * C + c] = static_cast<float>(weight ? xh * weight[c] + bias[c] : xh);
    }
  const double unbias = static_cast<double>(B) / static_cast<double>(B - 1);
  for (int64_t c = 0; c < C; ++c) {
    rmOut[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean[c]);
    rvOut[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * var[c] * unbias);
  }
}

/** dx [B, C]; dWeight / dBias [C] when weight is given (else ignored, may be nullptr). */
inline void BatchNorm1dGrad(const float* dy, const float* x, const float* weight, float* dx, float* dWeight,
                            float* dBias, int64_t B, int64_t C, double eps) {
  std::vector<double> mean, var;
  BatchNormColumnStats(x, B, C, &mean, &var);
  std::vector<double> rstd(C), sG(C, 0.0), sGX(C, 0.0), dW(C, 0.0), dB(C, 0.0);
  for (int64_t c = 0; c < C; ++c) rstd[c] = 1.0 / std::sqrt(var[c] + eps);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = b * C + c;
      const double xh = (x[i] - mean[c]) * rstd[c];
      const double g = static_cast<double>(dy[i]) * (weight ? weight[c] : 1.0f);
      sG[c] += g;
      sGX[c] += g * xh;
      dW[c] += dy[i] * xh;
      dB[c] += dy[i];
    }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = b * C + c;
      const double xh = (x[i] - mean[c]) * rstd[c];
      const double g = static_cast<double>(dy[i]) * (weight ? weight[c] : 1.0f);
      dx[i] = static_cast<float>(rstd[c] * (g - sG[c] / B - xh * (sGX[c] / B)));
    }
  if (weight)
    for (int64_t c = 0; c < C; ++c) {
      dWeight[c] = static_cast<float>(dW[c]);
      dBias[c] = static_cast<float>(dB[c]);
    }
}

}  // namespace dilemma::ref
