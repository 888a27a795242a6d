// Launcher of the fused AdamW CUDA kernel (adamw.cu); argument checks are in adamw.cc, the CPU
// reference in ref/optim.h. Asynchronous on `stream`; returns the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "ref/optim.h"

namespace dilemma::gpu {

/** The step's constants, already rounded to float32 the way core's AdamWUpdate rounds them. */
using ref::AdamWConsts;

/**
 * pOut/mOut/vOut = one AdamW step of p/g/m/v (n float32 elements); outputs may alias their
 * inputs (each element is read before it is written, by the same thread).
 */
cudaError_t AdamWCuda(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut,
                      float* vOut, int64_t n, const AdamWConsts& c, cudaStream_t stream);

}  // namespace dilemma::gpu
