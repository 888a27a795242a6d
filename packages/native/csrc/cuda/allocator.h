// Memory of the `cuda` backend's buffers, for runtime.cc: host blocks, and on the CUDA device
// (opened once per process, with the one stream all work is queued on) a caching allocator and
// the pinned staging ring uploads go through. Ops see only runtime.h.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#if defined(DILEMMA_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace dilemma::gpu {

/** A 64-byte aligned host block (nullptr for 0 bytes); release it with std::free. */
void* HostAlloc(size_t bytes);

/** The caching allocator's counters, for memory() (all 0 without CUDA). */
struct CacheStats {
  size_t reserved = 0;
  int64_t cacheHits = 0, driverAllocs = 0;
};
const CacheStats& AllocatorStats();

#if defined(DILEMMA_HAVE_CUDA)
/** Opens device `index` (once: one device per process); "" on success, else why not. */
std::string OpenDevice(int index);
/** The open device's index, -1 before OpenDevice succeeded. */
int DeviceIndex();
const cudaDeviceProp& DeviceProps();

/** A device block for `bytes` bytes (size-class rounded); nullptr + *err on failure. */
void* CudaAlloc(size_t bytes, std::string* err);
/** Returns a block from CudaAlloc(bytes) to the cache: stream order makes it reusable at once. */
void CudaRelease(void* p, size_t bytes);

/** Queues dst[0, len) = src[0, len) (host to device) through the pinned ring; false after throwing. */
bool UploadStaged(Napi::Env env, uint8_t* dst, const uint8_t* src, size_t len);
#endif

}  // namespace dilemma::gpu
