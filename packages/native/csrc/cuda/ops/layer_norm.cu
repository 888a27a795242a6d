// CUDA LayerNorm forward / backward; CPU reference and semantics: layer_norm.cc.
// Rows of up to kWarpD get a warp each (ViT widths 192..1024), wider rows a block; statistics
// are two-pass in fp32 (mean, then sum of squared deviations: no cancellation), taken about the
// row's first element (see RowStat); the row is re-read from L1/L2 rather than held in registers.
// Backward, deterministic (no float atomics):
//   1. row kernel: dx, and the row's (shifted mean, rstd) into scratch;
//   2. partials kernel: for fixed tiles of rows (tiling chosen from `rows` alone), each thread
//      sums dy * xhat and dy down one column of its tile in order, in double;
//   3. final kernel: each column adds its tiles' partials in tile order.
// Scratch: one device buffer owned by this file, grown with cudaMalloc when a call needs more and
// never freed (the runtime.h contract exposes no allocator; the size is bounded by
// 8 * rows + 16 * kMaxTiles * d bytes, a few MB for a ViT). Growing waits for the stream first,
// since queued kernels may still use the old buffer. Calls come from the JS thread only.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/scratch.h"
#include "cuda/ops/layer_norm_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kWarpD = 2048;
constexpr int64_t kMaxGrid = 65535 * 16;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;  // every lane, same value
}

// Sum over the G threads of a row group (G == 32: a warp; G == kThreads: the block, whose callers
// loop block-uniformly). Returns the sum to every thread of the group; `red` is kThreads / 32 floats.
template <int G>
__device__ __forceinline__ float group_sum(float v, float* red) {
  v = warp_sum(v);
  if (G == 32) return v;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) red[warp] = v;
  __syncthreads();
  float s = red[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w) s += red[w];
  __syncthreads();  // red may be rewritten by the next call
  return s;
}

// Row statistics about a shift: c_j = x_j - x0 (x0 = the row's first element) is exact when the
// values are close to each other, so a row with a large common offset (mean >> spread) keeps its
// relative precision, as the double reference does; xhat_j = (c_j - mean_c) * rstd.
struct RowStat {
  float x0, meanC, rstd;
  __device__ __forceinline__ float xhat(float x) const { return ((x - x0) - meanC) * rstd; }
};

template <int G>
__device__ __forceinline__ RowStat row_stats(const float* __restrict__ xr, int64_t d, float eps, int t, float* red) {
  RowStat st;
  st.x0 = xr[0];
  float s = 0.f;
  for (int64_t j = t; j < d; j += G) s += xr[j] - st.x0;
  st.meanC = group_sum<G>(s, red) / static_cast<float>(d);
  float v = 0.f;
  for (int64_t j = t; j < d; j += G) {
    const float c = (xr[j] - st.x0) - st.meanC;
    v += c * c;
  }
  v = group_sum<G>(v, red) / static_cast<float>(d);
  st.rstd = 1.f / sqrtf(v + eps);
  return st;
}

template <int G>
__global__ void __launch_bounds__(kThreads)
    ln_fwd(const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
           float* __restrict__ out, int64_t rows, int64_t d, float eps) {
  __shared__ float red[kThreads / 32];
  constexpr int64_t kGroups = kThreads / G;
  const int t = threadIdx.x % G;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kGroups) {  // uniform over the group
    const float* xr = x + row * d;
    float* o = out + row * d;
    const RowStat st = row_stats<G>(xr, d, eps, t, red);
    for (int64_t j = t; j < d; j += G) o[j] = st.xhat(xr[j]) * __ldg(gamma + j) + __ldg(beta + j);
  }
}

template <int G>
__global__ void __launch_bounds__(kThreads)
    ln_bwd_rows(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ gamma,
                float* __restrict__ dx, float2* __restrict__ stats, int64_t rows, int64_t d, float eps) {
  __shared__ float red[kThreads / 32];
  constexpr int64_t kGroups = kThreads / G;
  const int t = threadIdx.x % G;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kGroups) {
    const float* xr = x + row * d;
    const float* dyr = dy + row * d;
    const RowStat st = row_stats<G>(xr, d, eps, t, red);
    float sg = 0.f, sgx = 0.f;
    for (int64_t j = t; j < d; j += G) {
      const float g = dyr[j] * __ldg(gamma + j);
      sg += g;
      sgx += g * st.xhat(xr[j]);
    }
    const float mG = group_sum<G>(sg, red) / static_cast<float>(d);
    const float mGX = group_sum<G>(sgx, red) / static_cast<float>(d);
    float* dxr = dx + row * d;
    for (int64_t j = t; j < d; j += G)
      dxr[j] = st.rstd * (dyr[j] * __ldg(gamma + j) - mG - st.xhat(xr[j]) * mGX);
    if (t == 0) stats[row] = make_float2(st.meanC, st.rstd);
  }
}

// Block (kThreads columns) x tile of tileRows rows; grid (column blocks, tiles).
__global__ void __launch_bounds__(kThreads)
    ln_bwd_partials(const float* __restrict__ dy, const float* __restrict__ x, const float2* __restrict__ stats,
                    int64_t rows, int64_t d, int64_t tileRows, double* __restrict__ partG,
                    double* __restrict__ partB) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t tile = blockIdx.y;
  if (c >= d) return;
  const int64_t r0 = tile * tileRows;
  const int64_t r1 = r0 + tileRows < rows ? r0 + tileRows : rows;
  double g = 0.0, b = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    const float2 ms = stats[r];  // (meanC, rstd); the shift x0 is the row's first element
    const RowStat st{x[r * d], ms.x, ms.y};
    const float dyv = dy[r * d + c];
    g += static_cast<double>(dyv) * static_cast<double>(st.xhat(x[r * d + c]));
    b += static_cast<double>(dyv);
  }
  partG[tile * d + c] = g;
  partB[tile * d + c] = b;
}

__global__ void ln_bwd_final(const double* __restrict__ partG, const double* __restrict__ partB, int64_t tiles,
                             int64_t d, float* __restrict__ dGamma, float* __restrict__ dBeta) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < d;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double g = 0.0, b = 0.0;
    for (int64_t t = 0; t < tiles; ++t) {
      g += partG[t * d + c];
      b += partB[t * d + c];
    }
    dGamma[c] = static_cast<float>(g);
    dBeta[c] = static_cast<float>(b);
  }
}

// Partial sums live in a scratch block owned by this file (cuda/scratch.h).
DeviceScratch g_scratch;
cudaError_t Scratch(size_t bytes, cudaStream_t stream, void** out) { return g_scratch.Get(bytes, stream, out); }

template <int G>
unsigned RowBlocks(int64_t rows) {
  int64_t b = (rows + kThreads / G - 1) / (kThreads / G);
  return static_cast<unsigned>(b > kMaxGrid ? kMaxGrid : (b < 1 ? 1 : b));
}

}  // namespace

cudaError_t layer_norm_fwd_cuda(const float* x, const float* gamma, const float* beta, float* out, int64_t rows,
                                int64_t d, float eps, cudaStream_t stream) {
  if (rows <= 0 || d <= 0) return cudaSuccess;
  if (d <= kWarpD) ln_fwd<32><<<RowBlocks<32>(rows), kThreads, 0, stream>>>(x, gamma, beta, out, rows, d, eps);
  else ln_fwd<kThreads><<<RowBlocks<kThreads>(rows), kThreads, 0, stream>>>(x, gamma, beta, out, rows, d, eps);
  return cudaGetLastError();
}

constexpr int64_t kMaxTiles = 512;
constexpr int64_t kMinTileRows = 16;

cudaError_t layer_norm_bwd_cuda(const float* dy, const float* x, const float* gamma, float* dx, float* dGamma,
                                float* dBeta, int64_t rows, int64_t d, float eps, cudaStream_t stream) {
  if (d <= 0) return cudaSuccess;
  if (rows <= 0) {  // sums over no rows
    cudaError_t e = cudaMemsetAsync(dGamma, 0, sizeof(float) * d, stream);
    return e != cudaSuccess ? e : cudaMemsetAsync(dBeta, 0, sizeof(float) * d, stream);
  }
  // Tiling from rows only, so the summation order (and result) does not depend on the device.
  int64_t tiles = (rows + kMinTileRows - 1) / kMinTileRows;
  if (tiles > kMaxTiles) tiles = kMaxTiles;
  const int64_t tileRows = (rows + tiles - 1) / tiles;
  tiles = (rows + tileRows - 1) / tileRows;
  const size_t statsBytes = ((sizeof(float2) * rows + 255) / 256) * 256;
  const size_t partBytes = sizeof(double) * tiles * d;
  void* scratch = nullptr;
  cudaError_t e = Scratch(statsBytes + 2 * partBytes, stream, &scratch);
  if (e != cudaSuccess) return e;
  float2* stats = static_cast<float2*>(scratch);
  double* partG = reinterpret_cast<double*>(static_cast<char*>(scratch) + statsBytes);
  double* partB = reinterpret_cast<double*>(static_cast<char*>(scratch) + statsBytes + partBytes);

  if (d <= kWarpD) ln_bwd_rows<32><<<RowBlocks<32>(rows), kThreads, 0, stream>>>(dy, x, gamma, dx, stats, rows, d, eps);
  else ln_bwd_rows<kThreads><<<RowBlocks<kThreads>(rows), kThreads, 0, stream>>>(dy, x, gamma, dx, stats, rows, d, eps);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  const dim3 grid(static_cast<unsigned>((d + kThreads - 1) / kThreads), static_cast<unsigned>(tiles));
  ln_bwd_partials<<<grid, kThreads, 0, stream>>>(dy, x, stats, rows, d, tileRows, partG, partB);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  int64_t fb = (d + kThreads - 1) / kThreads;
  if (fb > kMaxGrid) fb = kMaxGrid;
  ln_bwd_final<<<static_cast<unsigned>(fb), kThreads, 0, stream>>>(partG, partB, tiles, d, dGamma, dBeta);
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
