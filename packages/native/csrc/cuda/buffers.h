// The buffer table of the `cuda` backend (contract: docs/cuda-engine.md). Tensors live in buffers
// named by integer ids (JS numbers; 0 = none). A buffer is on one of two devices: kCuda (device
// memory from the caching allocator, work queued on one stream) or kHost (plain host memory,
// kernels run their CPU reference). The host device is what CI tests the whole backend on (no GPU
// there); the device check compares the two on a GPU.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dilemma::gpu {

enum class Where : int { kHost = 0, kCuda = 1 };

/** Element types as stored: bool is int32 0/1 (so every element is 4 bytes). */
enum DType : int { kF32 = 0, kI32 = 1, kBool = 2 };

struct Buf {
  void* ptr = nullptr;  // nullptr when bytes == 0
  size_t bytes = 0;
  Where where = Where::kHost;
  float* f() const { return static_cast<float*>(ptr); }
  int32_t* i() const { return static_cast<int32_t*>(ptr); }
};

/** The live buffer with id `id`, or nullptr when there is none. */
Buf* FindBuf(int64_t id);
/** Stores `b` (memory already allocated) under a new or recycled id and returns that id. */
int64_t AddBuf(const Buf& b);
/** Forgets live buffer `id` (its memory already released); the id may be handed out again. */
void DropBuf(int64_t id);

/** Bytes and count of the live buffers, for memory(). */
struct BufStats {
  size_t allocated = 0, peak = 0;
  int64_t live = 0;
};
const BufStats& BufferStats();

}  // namespace dilemma::gpu
