// Fused EMA (momentum-encoder) update kernel (launcher: ema_cuda.h; reference: ema.cc).
// Explicitly rounded intrinsics (no FMA contraction): bit-identical to the reference.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops/ema_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int kThreads = 256;

// t + (s - t)*b: exact where s == t (the reference's lerp form).
__device__ __forceinline__ float Ema(float t, float s, float b) {
  return __fadd_rn(t, __fmul_rn(__fsub_rn(s, t), b));
}

// No __restrict__: out may alias target (same element, read before written).
__global__ void EmaKernel4(const float4* t, const float4* s, float4* out, int64_t n4, float b) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n4; i += stride) {
    const float4 tv = t[i], sv = s[i];
    out[i] = make_float4(Ema(tv.x, sv.x, b), Ema(tv.y, sv.y, b), Ema(tv.z, sv.z, b), Ema(tv.w, sv.w, b));
  }
}

__global__ void EmaKernel(const float* t, const float* s, float* out, int64_t n, float b) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    out[i] = Ema(t[i], s[i], b);
  }
}

unsigned Grid(int64_t work) {
  int64_t g = (work + kThreads - 1) / kThreads;
  if (g < 1) g = 1;
  if (g > 65535LL * 16) g = 65535LL * 16;
  return static_cast<unsigned>(g);
}

bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

cudaError_t EmaCuda(const float* target, const float* source, float* out, int64_t n, float b,
                    cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  if (n % 4 == 0 && Aligned16(target) && Aligned16(source) && Aligned16(out)) {
    EmaKernel4<<<Grid(n / 4), kThreads, 0, stream>>>(reinterpret_cast<const float4*>(target),
                                                     reinterpret_cast<const float4*>(source),
                                                     reinterpret_cast<float4*>(out), n / 4, b);
  } else {
    EmaKernel<<<Grid(n), kThreads, 0, stream>>>(target, source, out, n, b);
  }
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
