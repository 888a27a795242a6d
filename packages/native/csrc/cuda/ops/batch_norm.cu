// CUDA BatchNorm1d forward / backward on x [B, C]; CPU reference and semantics: ref/batch_norm.h.
// A block owns 32 columns (consecutive: each row's loads coalesce) and splits the rows over 8
// row groups; column sums are taken in double and reduced over the groups in a fixed order, so
// results are deterministic and the statistics as exact as the double reference. The batch is
// small (B <= a few hundred) and re-read from L2 for each pass rather than held in registers.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops/batch_norm_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int kCols = 32;
constexpr int kRowGroups = 8;

// Sum of v over the row groups of this thread's column, returned to all of them. Every thread of
// the block must call it (it synchronises).
__device__ __forceinline__ double column_sum(double v, double (*red)[kCols]) {
  red[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  double s = 0;
#pragma unroll
  for (int g = 0; g < kRowGroups; ++g) s += red[g][threadIdx.x];
  __syncthreads();
  return s;
}

// Batch mean and biased variance of column c (two passes: no cancellation).
__device__ __forceinline__ void column_stats(const float* __restrict__ x, int64_t B, int64_t C, int64_t c, bool in,
                                             double (*red)[kCols], double* mean, double* var) {
  double s = 0;
  if (in)
    for (int64_t b = threadIdx.y; b < B; b += kRowGroups) s += x[b * C + c];
  *mean = column_sum(s, red) / static_cast<double>(B);
  double q = 0;
  if (in)
    for (int64_t b = threadIdx.y; b < B; b += kRowGroups) {
      const double d = x[b * C + c] - *mean;
      q += d * d;
    }
  *var = column_sum(q, red) / static_cast<double>(B);
}

__global__ void batch_norm_fwd(const float* __restrict__ x, const float* __restrict__ weight,
                               const float* __restrict__ bias, const float* __restrict__ rm,
                               const float* __restrict__ rv, float* __restrict__ y, float* __restrict__ rmOut,
                               float* __restrict__ rvOut, int64_t B, int64_t C, double eps, double momentum) {
  __shared__ double red[kRowGroups][kCols];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kCols + threadIdx.x;
  const bool in = c < C;
  double mean, var;
  column_stats(x, B, C, c, in, red, &mean, &var);
  if (!in) return;
  const double rstd = 1.0 / sqrt(var + eps);
  const double w = weight ? weight[c] : 1.0, sh = bias ? bias[c] : 0.0;
  for (int64_t b = threadIdx.y; b < B; b += kRowGroups) y[b * C + c] = static_cast<float>((x[b * C + c] - mean) * rstd * w + sh);
  if (threadIdx.y == 0) {
    rmOut[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean);
    rvOut[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * var * (static_cast<double>(B) / (B - 1)));
  }
}

__global__ void batch_norm_bwd(const float* __restrict__ dy, const float* __restrict__ x,
                               const float* __restrict__ weight, float* __restrict__ dx, float* __restrict__ dWeight,
                               float* __restrict__ dBias, int64_t B, int64_t C, double eps) {
  __shared__ double red[kRowGroups][kCols];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kCols + threadIdx.x;
  const bool in = c < C;
  double mean, var;
  column_stats(x, B, C, c, in, red, &mean, &var);
  const double rstd = 1.0 / sqrt(var + eps);
  const double w = in && weight ? weight[c] : 1.0;
  double sg = 0, sgx = 0, sdw = 0, sdb = 0;
  if (in)
    for (int64_t b = threadIdx.y; b < B; b += kRowGroups) {
      const double d = dy[b * C + c], xh = (x[b * C + c] - mean) * rstd;
      sg += d * w;
      sgx += d * w * xh;
      sdw += d * xh;
      sdb += d;
    }
  sg = column_sum(sg, red);
  sgx = column_sum(sgx, red);
  sdw = column_sum(sdw, red);
  sdb = column_sum(sdb, red);
  if (!in) return;
  const double mG = sg / static_cast<double>(B), mGX = sgx / static_cast<double>(B);
  for (int64_t b = threadIdx.y; b < B; b += kRowGroups) {
    const double xh = (x[b * C + c] - mean) * rstd;
    dx[b * C + c] = static_cast<float>(rstd * (dy[b * C + c] * w - mG - xh * mGX));
  }
  if (weight && threadIdx.y == 0) {
    dWeight[c] = static_cast<float>(sdw);
    dBias[c] = static_cast<float>(sdb);
  }
}

unsigned Blocks(int64_t C) { return static_cast<unsigned>((C + kCols - 1) / kCols); }

}  // namespace

cudaError_t batch_norm_fwd_cuda(const float* x, const float* weight, const float* bias, const float* runningMean,
                                const float* runningVar, float* y, float* runningMeanOut, float* runningVarOut,
                                int64_t B, int64_t C, double eps, double momentum, cudaStream_t stream) {
  if (C == 0) return cudaSuccess;
  batch_norm_fwd<<<Blocks(C), dim3(kCols, kRowGroups), 0, stream>>>(x, weight, bias, runningMean, runningVar, y,
                                                                    runningMeanOut, runningVarOut, B, C, eps, momentum);
  return cudaGetLastError();
}

cudaError_t batch_norm_bwd_cuda(const float* dy, const float* x, const float* weight, float* dx, float* dWeight,
                                float* dBias, int64_t B, int64_t C, double eps, cudaStream_t stream) {
  if (C == 0) return cudaSuccess;
  batch_norm_bwd<<<Blocks(C), dim3(kCols, kRowGroups), 0, stream>>>(dy, x, weight, dx, dWeight, dBias, B, C, eps);
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
