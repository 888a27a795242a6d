// Launcher of the fused AdamW CUDA kernel (adamw.cu); argument checks and the CPU reference are
// in adamw.cc. Asynchronous on `stream`; returns the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** The step's constants, already rounded to float32 the way core's AdamWUpdate rounds them. */
struct AdamWConsts {
  float b1, c1;  // beta1, 1 - beta1
  float b2, c2;  // beta2, 1 - beta2
  float decay;   // 1 - lr * weightDecay (used only when decays)
  float sqrtBc2, eps, stepSize;
  bool decays;   // weightDecay != 0
};

/**
 * pOut/mOut/vOut = one AdamW step of p/g/m/v (n float32 elements); outputs may alias their
 * inputs (each element is read before it is written, by the same thread).
 */
cudaError_t AdamWCuda(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut,
                      float* vOut, int64_t n, const AdamWConsts& c, cudaStream_t stream);

}  // namespace dilemma::gpu
