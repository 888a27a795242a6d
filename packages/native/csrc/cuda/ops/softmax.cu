// CUDA row softmax; CPU reference: softmax.cc. Three passes over the row (max, exp + sum with
// the exps stored in out, scale); the re-reads hit L1/L2. Rows up to kWarpCols wide get a warp
// each (attention rows are ~200 wide), longer rows a block. Max is NaN-propagating (a NaN row
// gives NaN like tfjs); the sum is fp32 over a fixed shuffle tree; the final step divides (not
// multiplies by a reciprocal) like tfjs.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops/softmax_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int64_t kWarpCols = 1024;
constexpr int kThreads = 256;

__device__ __forceinline__ float nanmax(float a, float b) {
  if (a != a || b != b) return __int_as_float(0x7fc00000);
  return b > a ? b : a;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = nanmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;  // every lane
}
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;  // every lane (xor tree: all lanes add in the same order, so they agree)
}

__global__ void __launch_bounds__(kThreads)
    softmax_warp(const float* __restrict__ x, float* __restrict__ out, int64_t rows, int64_t cols) {
  const int lane = threadIdx.x & 31;
  const int64_t warpsPerBlock = kThreads / 32;
  const int64_t nWarps = static_cast<int64_t>(gridDim.x) * warpsPerBlock;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * warpsPerBlock + (threadIdx.x >> 5); row < rows;
       row += nWarps) {  // warp-uniform
    const float* xr = x + row * cols;
    float* o = out + row * cols;
    float m = -INFINITY;
    for (int64_t j = lane; j < cols; j += 32) m = nanmax(m, xr[j]);
    m = warp_max(m);
    float s = 0.f;
    for (int64_t j = lane; j < cols; j += 32) {
      const float e = expf(xr[j] - m);
      o[j] = e;
      s += e;
    }
    s = warp_sum(s);
    for (int64_t j = lane; j < cols; j += 32) o[j] = o[j] / s;
  }
}

// One block per row. red[] holds the per-warp partials; every thread then reads all of them in
// the same order, so all agree on the result.
__global__ void __launch_bounds__(kThreads)
    softmax_block(const float* __restrict__ x, float* __restrict__ out, int64_t rows, int64_t cols) {
  __shared__ float red[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {  // block-uniform
    const float* xr = x + row * cols;
    float* o = out + row * cols;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) m = nanmax(m, xr[j]);
    m = warp_max(m);
    if (lane == 0) red[warp] = m;
    __syncthreads();
    m = red[0];
    for (int w = 1; w < kThreads / 32; ++w) m = nanmax(m, red[w]);
    __syncthreads();  // red is reused for the sum
    float s = 0.f;
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
      const float e = expf(xr[j] - m);
      o[j] = e;
      s += e;
    }
    s = warp_sum(s);
    if (lane == 0) red[warp] = s;
    __syncthreads();
    s = red[0];
    for (int w = 1; w < kThreads / 32; ++w) s += red[w];
    // Each thread rescales exactly the elements it wrote, so no barrier is needed before this.
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) o[j] = o[j] / s;
    __syncthreads();  // red is rewritten by the next row
  }
}

}  // namespace

cudaError_t softmax_cuda(const float* x, float* out, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  constexpr int64_t kMaxGrid = 65535 * 16;
  if (cols <= kWarpCols) {
    int64_t blocks = (rows + kThreads / 32 - 1) / (kThreads / 32);
    if (blocks > kMaxGrid) blocks = kMaxGrid;
    softmax_warp<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, out, rows, cols);
  } else {
    const int64_t blocks = rows < kMaxGrid ? rows : kMaxGrid;
    softmax_block<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, out, rows, cols);
  }
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
