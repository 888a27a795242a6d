// CUDA attention core of FusedAttention for the short sequences of DILEMMA (N = 17-65 tokens;
// ViT-S/16 dense 197 works too): one warp per query row. The row's scores live in the probs
// output itself (re-read from L1/L2), so there is no shared-memory limit on N; the query (or
// dCtx) row sits in shared memory, broadcast to the lanes. Host reference:
// engine/attention.cc; launchers: fused_cuda.h.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops/fused_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__device__ __forceinline__ float nanmax(float a, float b) {
  if (a != a || b != b) return __int_as_float(0x7fc00000);
  return b > a ? b : a;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = nanmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Rows are (bh, i) = ((b * H + h), i) flattened; returns false past the last row (warp-uniform).
struct Row {
  int64_t b, bh, i;
  int h;
};
__device__ __forceinline__ bool RowOf(int64_t row, int64_t rows, int64_t N, int64_t H, Row* r) {
  if (row >= rows) return false;
  r->i = row % N;
  r->bh = row / N;
  r->h = static_cast<int>(r->bh % H);
  r->b = r->bh / H;
  return true;
}

__global__ void __launch_bounds__(kThreads)
    attn_fwd(const float* __restrict__ qkv, float* __restrict__ probs, float* __restrict__ ctx, int64_t rows,
             int64_t N, int64_t D, int64_t H, float scale) {
  extern __shared__ float sm[];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t hd = D / H, D3 = 3 * D;
  float* q = sm + warp * hd;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + warp; ; row += static_cast<int64_t>(gridDim.x) * kWarps) {
    Row r;
    if (!RowOf(row, rows, N, H, &r)) return;
    const float* base = qkv + r.b * N * D3 + r.h * hd;  // q of token t: base[t * D3], k: + D, v: + 2D
    __syncwarp();  // the previous row's readers of q are done
    for (int64_t e = lane; e < hd; e += 32) q[e] = base[r.i * D3 + e];
    __syncwarp();
    float* p = probs + row * N;
    float m = -INFINITY;
    for (int64_t j = lane; j < N; j += 32) {
      const float* k = base + j * D3 + D;
      float s = 0.f;
      for (int64_t e = 0; e < hd; ++e) s = fmaf(q[e], k[e], s);
      s *= scale;
      p[j] = s;
      m = nanmax(m, s);
    }
    m = warp_max(m);
    float sum = 0.f;
    for (int64_t j = lane; j < N; j += 32) {
      const float ex = expf(p[j] - m);
      p[j] = ex;
      sum += ex;
    }
    sum = warp_sum(sum);
    for (int64_t j = lane; j < N; j += 32) p[j] = p[j] / sum;
    __syncwarp();  // every lane reads the whole row below
    float* c = ctx + (r.b * N + r.i) * D + r.h * hd;
    for (int64_t e = lane; e < hd; e += 32) {
      float acc = 0.f;
      for (int64_t j = 0; j < N; ++j) acc = fmaf(p[j], base[j * D3 + 2 * D + e], acc);
      c[e] = acc;
    }
  }
}

// Per query row i: dS row (scratch) and dQ_i.
__global__ void __launch_bounds__(kThreads)
    attn_bwd_rows(const float* __restrict__ qkv, const float* __restrict__ probs, const float* __restrict__ dCtx,
                  float* __restrict__ dS, float* __restrict__ dqkv, int64_t rows, int64_t N, int64_t D, int64_t H,
                  float scale) {
  extern __shared__ float sm[];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t hd = D / H, D3 = 3 * D;
  float* dc = sm + warp * hd;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + warp; ; row += static_cast<int64_t>(gridDim.x) * kWarps) {
    Row r;
    if (!RowOf(row, rows, N, H, &r)) return;
    const float* base = qkv + r.b * N * D3 + r.h * hd;
    __syncwarp();
    for (int64_t e = lane; e < hd; e += 32) dc[e] = dCtx[(r.b * N + r.i) * D + r.h * hd + e];
    __syncwarp();
    const float* p = probs + row * N;
    float* ds = dS + row * N;
    float dot = 0.f;
    for (int64_t j = lane; j < N; j += 32) {
      const float* v = base + j * D3 + 2 * D;
      float s = 0.f;
      for (int64_t e = 0; e < hd; ++e) s = fmaf(dc[e], v[e], s);
      ds[j] = s;
      dot = fmaf(s, p[j], dot);
    }
    dot = warp_sum(dot);
    for (int64_t j = lane; j < N; j += 32) ds[j] = p[j] * (ds[j] - dot) * scale;
    __syncwarp();
    float* dq = dqkv + (r.b * N + r.i) * D3 + r.h * hd;
    for (int64_t e = lane; e < hd; e += 32) {
      float acc = 0.f;
      for (int64_t j = 0; j < N; ++j) acc = fmaf(ds[j], base[j * D3 + D + e], acc);
      dq[e] = acc;
    }
  }
}

// Per key row j: dK_j = sum_i dS[i, j] q_i, dV_j = sum_i P[i, j] dCtx_i (i in order).
__global__ void __launch_bounds__(kThreads)
    attn_bwd_cols(const float* __restrict__ qkv, const float* __restrict__ probs, const float* __restrict__ dCtx,
                  const float* __restrict__ dS, float* __restrict__ dqkv, int64_t rows, int64_t N, int64_t D,
                  int64_t H) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t hd = D / H, D3 = 3 * D;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + warp; ; row += static_cast<int64_t>(gridDim.x) * kWarps) {
    Row r;
    if (!RowOf(row, rows, N, H, &r)) return;
    const int64_t j = r.i;
    const float* base = qkv + r.b * N * D3 + r.h * hd;
    const float* dsCol = dS + r.bh * N * N + j;
    const float* pCol = probs + r.bh * N * N + j;
    const float* dcBase = dCtx + r.b * N * D + r.h * hd;
    float* out = dqkv + (r.b * N + j) * D3 + r.h * hd;
    for (int64_t e = lane; e < hd; e += 32) {
      float dk = 0.f, dv = 0.f;
      for (int64_t i = 0; i < N; ++i) {
        dk = fmaf(dsCol[i * N], base[i * D3 + e], dk);
        dv = fmaf(pCol[i * N], dcBase[i * D + e], dv);
      }
      out[D + e] = dk;
      out[2 * D + e] = dv;
    }
  }
}

unsigned GridRows(int64_t rows) {
  int64_t g = (rows + kWarps - 1) / kWarps;
  if (g < 1) g = 1;
  if (g > 65535LL * 16) g = 65535LL * 16;
  return static_cast<unsigned>(g);
}

}  // namespace

cudaError_t attention_fwd_cuda(const float* qkv, float* probs, float* ctx, int64_t B, int64_t N, int64_t D, int64_t H,
                               float scale, cudaStream_t stream) {
  const int64_t rows = B * H * N;
  if (rows <= 0 || D <= 0) return cudaSuccess;
  const size_t smem = sizeof(float) * kWarps * (D / H);
  if (smem > 48 * 1024) return cudaErrorInvalidValue;  // head width > 1536
  attn_fwd<<<GridRows(rows), kThreads, smem, stream>>>(qkv, probs, ctx, rows, N, D, H, scale);
  return cudaGetLastError();
}

cudaError_t attention_bwd_cuda(const float* qkv, const float* probs, const float* dCtx, float* dS, float* dqkv,
                               int64_t B, int64_t N, int64_t D, int64_t H, float scale, cudaStream_t stream) {
  const int64_t rows = B * H * N;
  if (rows <= 0 || D <= 0) return cudaSuccess;
  const size_t smem = sizeof(float) * kWarps * (D / H);
  if (smem > 48 * 1024) return cudaErrorInvalidValue;
  attn_bwd_rows<<<GridRows(rows), kThreads, smem, stream>>>(qkv, probs, dCtx, dS, dqkv, rows, N, D, H, scale);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  attn_bwd_cols<<<GridRows(rows), kThreads, 0, stream>>>(qkv, probs, dCtx, dS, dqkv, rows, N, D, H);
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
