// Bias + activation epilogue of the `cuda` backend's matMul (ops/matmul.cc runs the product with
// cuBLAS, then this in place). Host reference: the epilogue loop in ops/matmul.cc.
#include <cuda_runtime.h>

#include <algorithm>

#include "cuda/ops/matmul_cuda.h"

namespace dilemma::gpu {
namespace {

// Block (column tile, row slice): threads walk a row's columns (coalesced), blocks stride over
// rows, so the column index needs no division and the bias element is loaded once per thread.
template <bool kHasBias, bool kScalarBias>
__global__ void epilogue_kernel(float* __restrict__ out, int64_t rows, int64_t n, const float* __restrict__ bias,
                                int act, float alpha) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= n) return;
  float b = 0.f;
  if (kHasBias) b = kScalarBias ? __ldg(bias) : __ldg(bias + j);
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    float* p = out + r * n + j;
    *p = MatMulActivate(kHasBias ? *p + b : *p, act, alpha);
  }
}

}  // namespace

cudaError_t matmul_epilogue_cuda(float* out, int64_t rows, int64_t n, const float* bias, int64_t biasLen, int act,
                                 float alpha, cudaStream_t stream) {
  if (rows <= 0 || n <= 0) return cudaSuccess;
  constexpr int kThreads = 256;
  const int64_t colBlocks = (n + kThreads - 1) / kThreads;
  if (colBlocks > 0x7fffffff) return cudaErrorInvalidValue;
  // Enough row slices to fill the GPU (~64K blocks in all), each looping over the remaining rows.
  const int64_t rowSlices = std::min<int64_t>(rows, std::max<int64_t>(1, std::min<int64_t>(65535, 65536 / colBlocks)));
  const dim3 grid(static_cast<unsigned>(colBlocks), static_cast<unsigned>(rowSlices));
  if (bias == nullptr) epilogue_kernel<false, false><<<grid, kThreads, 0, stream>>>(out, rows, n, bias, act, alpha);
  else if (biasLen == 1) epilogue_kernel<true, true><<<grid, kThreads, 0, stream>>>(out, rows, n, bias, act, alpha);
  else epilogue_kernel<true, false><<<grid, kThreads, 0, stream>>>(out, rows, n, bias, act, alpha);
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
