// GeluErf / GeluErfGrad CUDA kernels (launchers: gelu_cuda.h; CPU reference: gelu.cc).
// Phi(x) = normcdff(x) = 0.5 (1 + erf(x / sqrt 2)), evaluated without the cancellation of
// 1 + erf for negative x; phi(x) = exp(-x^2/2) / sqrt(2 pi). Float throughout (a few ulp from
// the double reference). Grid-stride loops, 4 elements per 16-byte access when aligned.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops/gelu_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int kThreads = 256;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

unsigned Grid(int64_t work) {
  int64_t g = (work + kThreads - 1) / kThreads;
  if (g < 1) g = 1;
  if (g > 65535LL * 16) g = 65535LL * 16;
  return static_cast<unsigned>(g);
}
bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

__device__ __forceinline__ float Gelu(float x) { return x * normcdff(x); }
__device__ __forceinline__ float GeluGrad(float dy, float x) {
  return dy * (normcdff(x) + x * (kInvSqrt2Pi * expf(-0.5f * x * x)));
}

__global__ void GeluKernel(const float* __restrict__ x, float* __restrict__ out, int64_t n, bool vec) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = t; i < n4; i += stride) {
    const float4 v = reinterpret_cast<const float4*>(x)[i];
    reinterpret_cast<float4*>(out)[i] = make_float4(Gelu(v.x), Gelu(v.y), Gelu(v.z), Gelu(v.w));
  }
  for (int64_t i = n4 * 4 + t; i < n; i += stride) out[i] = Gelu(x[i]);
}

__global__ void GeluGradKernel(const float* __restrict__ dy, const float* __restrict__ x, float* __restrict__ out,
                               int64_t n, bool vec) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = t; i < n4; i += stride) {
    const float4 g = reinterpret_cast<const float4*>(dy)[i];
    const float4 v = reinterpret_cast<const float4*>(x)[i];
    reinterpret_cast<float4*>(out)[i] =
        make_float4(GeluGrad(g.x, v.x), GeluGrad(g.y, v.y), GeluGrad(g.z, v.z), GeluGrad(g.w, v.w));
  }
  for (int64_t i = n4 * 4 + t; i < n; i += stride) out[i] = GeluGrad(dy[i], x[i]);
}

}  // namespace

cudaError_t GeluErfCuda(const float* x, float* out, int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool vec = Aligned16(x) && Aligned16(out);
  GeluKernel<<<Grid(vec ? (n + 3) / 4 : n), kThreads, 0, stream>>>(x, out, n, vec);
  return cudaGetLastError();
}

cudaError_t GeluErfGradCuda(const float* dy, const float* x, float* out, int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool vec = Aligned16(dy) && Aligned16(x) && Aligned16(out);
  GeluGradKernel<<<Grid(vec ? (n + 3) / 4 : n), kThreads, 0, stream>>>(dy, x, out, n, vec);
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
