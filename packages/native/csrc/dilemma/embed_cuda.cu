// DILEMMA embedding op, CUDA kernels. CPU reference beside them: embed_cpu.cc (embed_fwd_cpu,
// embed_bwd_cpu); the device check (cuda_check.cu) runs both on the same inputs and compares.
#include <cuda_runtime.h>

#include "dilemma_cuda.h"
#include "embed_cuda_blocks.cuh"

namespace dilemma {
namespace {

// Forward: one warp per output row (b, i); DV = D / width vectors per row. Reads 2 rows, writes 1.
template <class V>
__global__ void embed_fwd_kernel(const V* __restrict__ tokens, const V* __restrict__ pos,
                                 const int32_t* __restrict__ realPos, const int32_t* __restrict__ inputPos, int B,
                                 int L, int K, int DV, V* __restrict__ out, int32_t* err) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (row >= static_cast<int64_t>(B) * K) return;
  const int64_t b = row / K;
  const int r = __ldg(realPos + row), q = __ldg(inputPos + row);
  if (static_cast<unsigned>(r) >= static_cast<unsigned>(L) || static_cast<unsigned>(q) >= static_cast<unsigned>(L)) {
    if (lane == 0) flag(err, 1);
    return;
  }
  const V* t = tokens + (b * L + r) * DV;
  const V* p = pos + static_cast<int64_t>(q) * DV;
  V* o = out + row * DV;
#pragma unroll 4
  for (int j = lane; j < DV; j += 32) o[j] = vadd(__ldg(t + j), __ldg(p + j));
}

// dPos, deterministic: block (position l, column tile). The block scans inputPos in chunks, compacts
// the matching flat rows n (in increasing order) into shared memory with a block prefix sum, and
// each thread adds its column of those dy rows in that order: the same order as embed_bwd_cpu, so
// the result is bitwise equal to it and independent of scheduling. No atomics on floats.
constexpr int kDposThreads = 128;
constexpr int kDposPerThread = 16;
constexpr int kDposChunk = kDposThreads * kDposPerThread;
// Needs blockDim.x == kDposThreads; shared: list[kDposChunk], warpTotal[kDposThreads / 32].
template <class V>
__device__ __forceinline__ void dpos_block(const V* __restrict__ dy, const int32_t* __restrict__ inputPos, int64_t N,
                                           int L, int DV, V* __restrict__ dPos, int32_t* err, int l, int tileY,
                                           int* list, int* warpTotal) {
  const int col = tileY * kDposThreads + threadIdx.x;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const bool checker = l == 0 && tileY == 0;
  V acc = vzero<V>();
  for (int64_t base = 0; base < N; base += kDposChunk) {
    // Each thread owns kDposPerThread consecutive entries, so thread order == entry order.
    const int64_t first = base + static_cast<int64_t>(threadIdx.x) * kDposPerThread;
    unsigned mask = 0;
#pragma unroll
    for (int k = 0; k < kDposPerThread; ++k) {
      const int64_t n = first + k;
      if (n < N) {
        const int q = __ldg(inputPos + n);
        if (q == l) mask |= 1u << k;
        if (checker && static_cast<unsigned>(q) >= static_cast<unsigned>(L)) flag(err, 1);
      }
    }
    const int cnt = __popc(mask);
    int incl = cnt;  // warp inclusive scan of counts
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const int v = __shfl_up_sync(0xffffffffu, incl, o);
      if (lane >= o) incl += v;
    }
    if (lane == 31) warpTotal[warp] = incl;
    __syncthreads();
    int off = incl - cnt, total = 0;
#pragma unroll
    for (int w = 0; w < kDposThreads / 32; ++w) {
      if (w < warp) off += warpTotal[w];
      total += warpTotal[w];
    }
    while (mask) {
      const int k = __ffs(mask) - 1;
      mask &= mask - 1;
      list[off++] = static_cast<int>(first - base) + k;
    }
    __syncthreads();
    if (col < DV) {
      const V* src = dy + base * DV + col;
      int j = 0;
      for (; j + 8 <= total; j += 8) {  // issue 8 loads, then add them in order
        V a[8];
#pragma unroll
        for (int u = 0; u < 8; ++u) a[u] = __ldg(src + static_cast<int64_t>(list[j + u]) * DV);
#pragma unroll
        for (int u = 0; u < 8; ++u) acc = vadd(acc, a[u]);
      }
      for (; j < total; ++j) acc = vadd(acc, __ldg(src + static_cast<int64_t>(list[j]) * DV));
    }
    __syncthreads();  // list and warpTotal are rewritten by the next chunk
  }
  if (col < DV) dPos[static_cast<int64_t>(l) * DV + col] = acc;
}

// Backward in one launch: the first L * dposTiles blocks do dPos (latency-bound, few blocks: they
// start first), the rest dTokens (bandwidth-bound), so dPos hides behind the dTokens traffic.
template <class V>
__global__ void __launch_bounds__(kDposThreads)
    embed_bwd_fused_kernel(const V* __restrict__ dy, const int32_t* __restrict__ realPos,
                           const int32_t* __restrict__ inputPos, int B, int L, int K, int DV, int dposTiles,
                           V* __restrict__ dTokens, V* __restrict__ dPos, int32_t* err) {
  __shared__ int list[kDposChunk];
  __shared__ int warpTotal[kDposThreads / 32];
  const int64_t nDpos = static_cast<int64_t>(L) * dposTiles;
  const int64_t blk = blockIdx.x;
  if (blk < nDpos) {
    dpos_block<V>(dy, inputPos, static_cast<int64_t>(B) * K, L, DV, dPos, err, static_cast<int>(blk % L),
                  static_cast<int>(blk / L), list, warpTotal);
  } else {
    const int64_t t = blk - nDpos;
    const int tiles = (L + kTile - 1) / kTile;
    dtokens_block<V>(dy, realPos, L, K, DV, dTokens, err, static_cast<int>(t / tiles), static_cast<int>(t % tiles),
                     list);
  }
}

}  // namespace

cudaError_t embed_fwd_cuda(const float* tokens, const float* pos, const int32_t* realPos, const int32_t* inputPos,
                           int B, int L, int K, int D, float* out, int32_t* err, cudaStream_t stream) {
  const int64_t rows = static_cast<int64_t>(B) * K;
  if (rows == 0 || D == 0) return cudaSuccess;
  const int threads = 256;  // 8 rows per block
  const int64_t blocks = (rows * 32 + threads - 1) / threads;
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;  // gridDim.x limit (B*K > 2^34 rows)
  if (vec4(tokens, out, D) && reinterpret_cast<uintptr_t>(pos) % 16 == 0) {
    embed_fwd_kernel<float4><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
        reinterpret_cast<const float4*>(tokens), reinterpret_cast<const float4*>(pos), realPos, inputPos, B, L, K,
        D / 4, reinterpret_cast<float4*>(out), err);
  } else {
    embed_fwd_kernel<float><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(tokens, pos, realPos, inputPos, B,
                                                                                   L, K, D, out, err);
  }
  return cudaGetLastError();
}

cudaError_t embed_bwd_cuda(const float* dy, const int32_t* realPos, const int32_t* inputPos, int B, int L, int K,
                           int D, float* dTokens, float* dPos, int32_t* err, cudaStream_t stream) {
  if (B == 0 || D == 0) return cudaMemsetAsync(dPos, 0, sizeof(float) * L * D, stream);
  // L == 0: nothing to write, and the grid below would be empty (an invalid launch); any index
  // is then out of range, reported as an invalid value since no kernel can flag it.
  if (L == 0) return K == 0 ? cudaSuccess : cudaErrorInvalidValue;
  const int64_t tiles = (L + kTile - 1) / kTile;
  if (vec4(dy, dTokens, D) && reinterpret_cast<uintptr_t>(dPos) % 16 == 0) {
    const int DV = D / 4, dposTiles = (DV + kDposThreads - 1) / kDposThreads;
    const int64_t blocks = static_cast<int64_t>(L) * dposTiles + static_cast<int64_t>(B) * tiles;
    if (blocks > 0x7fffffff) return cudaErrorInvalidValue;  // gridDim.x limit
    embed_bwd_fused_kernel<float4><<<static_cast<unsigned>(blocks), kDposThreads, 0, stream>>>(
        reinterpret_cast<const float4*>(dy), realPos, inputPos, B, L, K, DV, dposTiles,
        reinterpret_cast<float4*>(dTokens), reinterpret_cast<float4*>(dPos), err);
  } else {
    const int dposTiles = (D + kDposThreads - 1) / kDposThreads;
    const int64_t blocks = static_cast<int64_t>(L) * dposTiles + static_cast<int64_t>(B) * tiles;
    if (blocks > 0x7fffffff) return cudaErrorInvalidValue;  // gridDim.x limit
    embed_bwd_fused_kernel<float><<<static_cast<unsigned>(blocks), kDposThreads, 0, stream>>>(
        dy, realPos, inputPos, B, L, K, D, dposTiles, dTokens, dPos, err);
  }
  return cudaGetLastError();
}

}  // namespace dilemma
