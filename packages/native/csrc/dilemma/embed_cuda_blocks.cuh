// Device pieces of the DILEMMA embedding kernels shared by embed_cuda.cu and the device check's
// atomic backward variant (cuda_check.cu): element access for the float4 / scalar paths, the
// error flag, and the dTokens block. Header-only (no relocatable device code); each includer gets
// its own copy.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace dilemma {
namespace {

// Element access for the float4 (D % 4 == 0) and scalar paths.
__device__ __forceinline__ float4 vadd(float4 a, float4 b) { return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w); }
__device__ __forceinline__ float vadd(float a, float b) { return a + b; }
template <class V> __device__ __forceinline__ V vzero();
template <> __device__ __forceinline__ float4 vzero<float4>() { return make_float4(0.f, 0.f, 0.f, 0.f); }
template <> __device__ __forceinline__ float vzero<float>() { return 0.f; }

__device__ __forceinline__ void flag(int32_t* err, int code) {
  if (err) atomicExch(err, code);
}

// dTokens: block (b, tile of 32 patches). Builds the patch -> kept-slot map of its tile in shared
// memory, then writes each dTokens row exactly once (zeros or a copy of dy) - no zero-fill pass.
constexpr int kTile = 32;
template <class V>
__device__ __forceinline__ void dtokens_block(const V* __restrict__ dy, const int32_t* __restrict__ realPos, int L,
                                              int K, int DV, V* __restrict__ dTokens, int32_t* err, int b, int tileY,
                                              int* slot) {
  const int l0 = tileY * kTile;
  for (int t = threadIdx.x; t < kTile; t += blockDim.x) slot[t] = -1;
  __syncthreads();
  for (int i = threadIdx.x; i < K; i += blockDim.x) {
    const int r = __ldg(realPos + static_cast<int64_t>(b) * K + i);
    if (static_cast<unsigned>(r) >= static_cast<unsigned>(L)) {
      if (tileY == 0) flag(err, 1);
    } else if (r >= l0 && r < l0 + kTile) {
      if (atomicCAS(&slot[r - l0], -1, i) != -1) flag(err, 2);
    }
  }
  __syncthreads();
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  for (int t = warp; t < kTile && l0 + t < L; t += nw) {
    V* dst = dTokens + (static_cast<int64_t>(b) * L + l0 + t) * DV;
    const int s = slot[t];
    if (s < 0) {
      for (int j = lane; j < DV; j += 32) dst[j] = vzero<V>();
    } else {
      const V* src = dy + (static_cast<int64_t>(b) * K + s) * DV;
#pragma unroll 4
      for (int j = lane; j < DV; j += 32) dst[j] = __ldg(src + j);
    }
  }
}

inline bool vec4(const void* a, const void* b, int D) {
  return D % 4 == 0 && reinterpret_cast<uintptr_t>(a) % 16 == 0 && reinterpret_cast<uintptr_t>(b) % 16 == 0;
}

}  // namespace
}  // namespace dilemma
