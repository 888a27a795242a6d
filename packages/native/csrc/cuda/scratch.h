// A growable device scratch buffer for kernels that need temporary space (partial sums of the
// deterministic reductions). One per user, owned for the process, never freed. Growing waits for
// the stream first: kernels queued earlier may still read the old block. JS thread only.
// (The .cc callers retry once after emptying the allocator's cache when cudaMalloc runs out.)
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>

namespace dilemma::gpu {

class DeviceScratch {
 public:
  /** *out = a device block of at least `bytes` bytes (grown by 25%, at least 1 MiB). */
  cudaError_t Get(size_t bytes, cudaStream_t stream, void** out) {
    if (bytes > bytes_) {
      if (ptr_ != nullptr) {
        cudaError_t e = cudaStreamSynchronize(stream);
        if (e != cudaSuccess) return e;
        e = cudaFree(ptr_);
        ptr_ = nullptr;
        bytes_ = 0;
        if (e != cudaSuccess) return e;
      }
      const size_t want = bytes < (size_t{1} << 20) ? (size_t{1} << 20) : bytes + bytes / 4;
      cudaError_t e = cudaMalloc(&ptr_, want);
      if (e != cudaSuccess) {
        ptr_ = nullptr;
        return e;
      }
      bytes_ = want;
    }
    *out = ptr_;
    return cudaSuccess;
  }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace dilemma::gpu
