// Launcher of the strided copy kernels (copy.cu) on device pointers; CPU reference: copy.cc.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** A copy over `shape` (rank <= 8) with element strides on each side (already merged by copy.cc). */
struct CopyDims {
  int rank = 0;
  int64_t shape[8] = {};
  int64_t src[8] = {};
  int64_t dst[8] = {};
};

/**
 * dst[Σ i_d dst_d] = src[Σ i_d src_d] over the index space of `dims` (4-byte elements; src and
 * dst already advanced to their offsets). A tiled shared-memory path serves transposes of two
 * axes (dst contiguous along the last axis, src contiguous along another); otherwise one thread
 * per element. Async on `stream`.
 */
cudaError_t strided_copy_cuda(const uint32_t* src, uint32_t* dst, const CopyDims& dims, cudaStream_t stream);

}  // namespace dilemma::gpu
