// Host blocks, the CUDA device and its caching allocator and pinned staging ring (allocator.h).
#include "cuda/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cuda/buffers.h"
#include "cuda/runtime.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/cublas_loader.h"
#endif

namespace dilemma::gpu {
namespace {

CacheStats g_stats;

#if defined(DILEMMA_HAVE_CUDA)
struct Device {
  int index = -1;
  cudaStream_t stream = nullptr;
  cudaDeviceProp props{};
  // Caching allocator: blocks are rounded to a size class and kept on free for exact reuse.
  // One stream orders all work, so a block freed after queued kernels can be handed to the next
  // allocation at once: anything that writes it is queued after them.
  std::map<size_t, std::vector<void*>> cache;
  // Pinned staging ring for uploads: the host copies into a chunk and returns; the DMA runs in
  // stream order. A chunk is reused once the event recorded after its last copy has fired.
  struct Chunk {
    void* host = nullptr;
    cudaEvent_t done = nullptr;
  };
  std::vector<Chunk> ring;
  size_t next = 0;
};
Device g_dev;

constexpr size_t kChunkBytes = 8u << 20;
constexpr int kChunks = 8;

size_t RoundSize(size_t bytes) {
  if (bytes < (1u << 20)) return (bytes + 511) / 512 * 512;
  return (bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
}

std::string CudaErr(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }
#endif

}  // namespace

// Host blocks: 64-byte aligned so the references (and any vectorised loops) see aligned rows.
void* HostAlloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
}

const CacheStats& AllocatorStats() { return g_stats; }

#if defined(DILEMMA_HAVE_CUDA)
std::string OpenDevice(int index) {
  if (g_dev.index == index) return "";
  if (g_dev.index >= 0) {
    return "the cuda backend already runs on device " + std::to_string(g_dev.index) + "; one device per process";
  }
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    cudaGetLastError();
    return "no CUDA device is visible (" + (e != cudaSuccess ? CudaErr(e) : std::string("0 devices")) +
           "); use a machine with an NVIDIA GPU and driver, or the native CPU engine";
  }
  if (index < 0 || index >= count) {
    return "CUDA device " + std::to_string(index) + " does not exist (" + std::to_string(count) + " visible)";
  }
  const auto& cublas = cublas::Load();
  if (cublas.api == nullptr) return cublas.error;
  // A failed open releases what it created (stream, staging ring), so a later init() starts clean
  // rather than leaking the stream or appending to a partial ring.
  auto fail = [&](const std::string& why) {
    cudaGetLastError();
    for (auto& c : g_dev.ring) {
      if (c.done != nullptr) cudaEventDestroy(c.done);
      if (c.host != nullptr) cudaFreeHost(c.host);
    }
    g_dev.ring.clear();
    g_dev.next = 0;
    if (g_dev.stream != nullptr) cudaStreamDestroy(g_dev.stream);
    g_dev.stream = nullptr;
    return why;
  };
  if ((e = cudaSetDevice(index)) != cudaSuccess) return fail("cudaSetDevice: " + CudaErr(e));
  if ((e = cudaGetDeviceProperties(&g_dev.props, index)) != cudaSuccess) return fail("cudaGetDeviceProperties: " + CudaErr(e));
  if ((e = cudaStreamCreateWithFlags(&g_dev.stream, cudaStreamNonBlocking)) != cudaSuccess) {
    g_dev.stream = nullptr;
    return fail("cudaStreamCreate: " + CudaErr(e));
  }
  for (int i = 0; i < kChunks; ++i) {
    Device::Chunk c;
    if ((e = cudaHostAlloc(&c.host, kChunkBytes, cudaHostAllocDefault)) != cudaSuccess) {
      return fail("cudaHostAlloc (pinned staging): " + CudaErr(e));
    }
    if ((e = cudaEventCreateWithFlags(&c.done, cudaEventDisableTiming)) != cudaSuccess) {
      cudaFreeHost(c.host);
      return fail("cudaEventCreate: " + CudaErr(e));
    }
    g_dev.ring.push_back(c);
  }
  g_dev.index = index;
  return "";
}

int DeviceIndex() { return g_dev.index; }

const cudaDeviceProp& DeviceProps() { return g_dev.props; }

cudaStream_t Stream() { return g_dev.stream; }

void ReleaseCachedBlocks() {
  if (g_dev.index < 0) return;
  cudaStreamSynchronize(g_dev.stream);
  for (auto& [size, blocks] : g_dev.cache) {
    for (void* p : blocks) {
      cudaFree(p);
      g_stats.reserved -= size;
    }
  }
  g_dev.cache.clear();
}

// A device block of RoundSize(bytes); on failure the cache is emptied and cudaMalloc tried once more.
void* CudaAlloc(size_t bytes, std::string* err) {
  const size_t size = RoundSize(bytes);
  auto it = g_dev.cache.find(size);
  if (it != g_dev.cache.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    ++g_stats.cacheHits;
    return p;
  }
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, size);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    ReleaseCachedBlocks();
    e = cudaMalloc(&p, size);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    *err = "cudaMalloc of " + std::to_string(size) + " bytes failed (" + CudaErr(e) + "); " +
           std::to_string(BufferStats().allocated) + " bytes are live. Use a smaller batch or model.";
    return nullptr;
  }
  ++g_stats.driverAllocs;
  g_stats.reserved += size;
  return p;
}

void CudaRelease(void* p, size_t bytes) { g_dev.cache[RoundSize(bytes)].push_back(p); }

bool UploadStaged(Napi::Env env, uint8_t* dst, const uint8_t* src, size_t len) {
  for (size_t done = 0; done < len;) {
    const size_t piece = std::min(kChunkBytes, len - done);
    auto& c = g_dev.ring[g_dev.next];
    g_dev.next = (g_dev.next + 1) % g_dev.ring.size();
    if (!CheckCuda(env, cudaEventSynchronize(c.done), "gpu.upload (staging wait)")) return false;
    std::memcpy(c.host, src + done, piece);
    if (!CheckCuda(env, cudaMemcpyAsync(dst + done, c.host, piece, cudaMemcpyHostToDevice, g_dev.stream), "gpu.upload")) {
      return false;
    }
    if (!CheckCuda(env, cudaEventRecord(c.done, g_dev.stream), "gpu.upload (event)")) return false;
    done += piece;
  }
  return true;
}

bool CheckCuda(Napi::Env env, cudaError_t e, const char* what) {
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e == cudaSuccess) return true;
  Throw(env, std::string(what) + ": CUDA error " + CudaErr(e));
  return false;
}
#endif

}  // namespace dilemma::gpu
