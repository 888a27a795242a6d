// Fused AdamW CUDA kernel (launcher: adamw_cuda.h; CPU reference and contract: adamw.cc).
// One pass reads p, g, m, v and writes p', m', v' (instead of ~12 elementwise kernels). Every
// operation is an explicitly rounded float intrinsic (no FMA contraction), so the result is
// bit-identical to the reference, which is bit-identical to core's cpu kernel.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops/adamw_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int kThreads = 256;

// No __restrict__: outputs may alias inputs (same element, read before written).
__device__ __forceinline__ void Step(float p, float g, float m, float v, const AdamWConsts& c, float* pO, float* mO,
                                     float* vO) {
  const float mi = __fadd_rn(__fmul_rn(m, c.b1), __fmul_rn(g, c.c1));
  const float vi = __fadd_rn(__fmul_rn(v, c.b2), __fmul_rn(__fmul_rn(g, g), c.c2));
  const float d = c.decays ? __fmul_rn(p, c.decay) : p;
  const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), c.sqrtBc2), c.eps);
  *pO = __fsub_rn(d, __fmul_rn(__fdiv_rn(mi, denom), c.stepSize));
  *mO = mi;
  *vO = vi;
}

__global__ void AdamWKernel4(const float4* p, const float4* g, const float4* m, const float4* v, float4* pOut,
                             float4* mOut, float4* vOut, int64_t n4, AdamWConsts c) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n4; i += stride) {
    const float4 pv = p[i], gv = g[i], mv = m[i], vv = v[i];
    float4 po, mo, vo;
    Step(pv.x, gv.x, mv.x, vv.x, c, &po.x, &mo.x, &vo.x);
    Step(pv.y, gv.y, mv.y, vv.y, c, &po.y, &mo.y, &vo.y);
    Step(pv.z, gv.z, mv.z, vv.z, c, &po.z, &mo.z, &vo.z);
    Step(pv.w, gv.w, mv.w, vv.w, c, &po.w, &mo.w, &vo.w);
    pOut[i] = po;
    mOut[i] = mo;
    vOut[i] = vo;
  }
}

__global__ void AdamWKernel(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut,
                            float* vOut, int64_t n, AdamWConsts c) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float po, mo, vo;
    Step(p[i], g[i], m[i], v[i], c, &po, &mo, &vo);
    pOut[i] = po;
    mOut[i] = mo;
    vOut[i] = vo;
  }
}

unsigned Grid(int64_t work) {
  int64_t g = (work + kThreads - 1) / kThreads;
  if (g < 1) g = 1;
  if (g > 65535LL * 16) g = 65535LL * 16;
  return static_cast<unsigned>(g);
}

bool Aligned16(const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15) == 0; }

}  // namespace

cudaError_t AdamWCuda(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut,
                      float* vOut, int64_t n, const AdamWConsts& c, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool vec = n % 4 == 0 && Aligned16(p) && Aligned16(g) && Aligned16(m) && Aligned16(v) && Aligned16(pOut) &&
                   Aligned16(mOut) && Aligned16(vOut);
  if (vec) {
    AdamWKernel4<<<Grid(n / 4), kThreads, 0, stream>>>(
        reinterpret_cast<const float4*>(p), reinterpret_cast<const float4*>(g), reinterpret_cast<const float4*>(m),
        reinterpret_cast<const float4*>(v), reinterpret_cast<float4*>(pOut), reinterpret_cast<float4*>(mOut),
        reinterpret_cast<float4*>(vOut), n / 4, c);
  } else {
    AdamWKernel<<<Grid(n), kThreads, 0, stream>>>(p, g, m, v, pOut, mOut, vOut, n, c);
  }
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
