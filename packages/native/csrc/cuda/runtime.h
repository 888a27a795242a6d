// Device runtime of the `cuda` tfjs backend (contract: docs/cuda-engine.md).
//
// Tensors live in buffers named by integer ids (JS numbers; 0 = none). A buffer is on one of
// two devices: kCuda (device memory from a caching allocator, work queued on one stream) or
// kHost (plain host memory, kernels run their CPU reference). The host device is what CI
// tests the whole backend on (no GPU there); the device check compares the two on a GPU.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#if defined(DILEMMA_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

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

/**
 * Buffer id argument `i` with at least `minBytes` bytes. On a bad id / too small a buffer it
 * throws a JS error naming `what` and returns nullptr (the caller returns at once).
 */
Buf* BufArg(const Napi::CallbackInfo& info, size_t i, size_t minBytes, const char* what);
/** Like BufArg, but 0 / null / undefined give nullptr without an error. */
Buf* OptBufArg(const Napi::CallbackInfo& info, size_t i, size_t minBytes, const char* what);

/**
 * Multi-tensor calls (adamWMulti, emaMulti) take their buffer ids and element counts as
 * Float64Arrays. F64ArrayArg returns argument i's data and sets *len, or throws naming `what`
 * and returns nullptr when it is not a Float64Array.
 */
const double* F64ArrayArg(const Napi::CallbackInfo& info, size_t i, size_t* len, const char* what);
/**
 * The buffer with id `id` (an element of such an array) and at least `minBytes` bytes; otherwise
 * throws a JS error starting with `what` and returns nullptr.
 */
Buf* BufById(Napi::Env env, double id, size_t minBytes, const std::string& what);
/** Element count `n` from such an array: a non-negative integer, else throws naming `what` and returns -1. */
int64_t CountOf(Napi::Env env, double n, const std::string& what);

/**
 * True when every non-null buffer is on the same device; otherwise throws a JS error naming
 * `what` and returns false. `*where` receives that device.
 */
bool SameDevice(const Napi::CallbackInfo& info, const char* what, std::initializer_list<const Buf*> bufs,
                Where* where);

/** int64 / double / bool / number[] arguments (number[] -> up to kMaxDims entries). */
constexpr int kMaxDims = 8;
int64_t IntArg(const Napi::CallbackInfo& info, size_t i);
double NumArg(const Napi::CallbackInfo& info, size_t i);
bool BoolArg(const Napi::CallbackInfo& info, size_t i);
/** Reads a number[] of length <= kMaxDims into out[]; returns its length, or -1 after throwing. */
int DimsArg(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what);

/** Matrix-product precision set by setMatmulPrecision: 0 fp32, 1 tf32, 2 bf16 (src/cuda/addon.ts PRECISION). */
int MatmulPrecision();

/** Throws a JS Error with `msg`; returns undefined for `return Throw(...)`. */
Napi::Value Throw(Napi::Env env, const std::string& msg);

#if defined(DILEMMA_HAVE_CUDA)
/** The backend's one stream (created by init()). Every kernel launch goes on it. */
cudaStream_t Stream();
/**
 * After a launch: when `e` (or cudaGetLastError()) is an error, throws a JS error naming `what`
 * and the CUDA error string, and returns false.
 */
bool CheckCuda(Napi::Env env, cudaError_t e, const char* what);
/**
 * Returns the caching allocator's free blocks to the driver (waits for the stream first). Ops
 * whose .cu grows its own scratch with cudaMalloc call it and retry once when that fails with
 * cudaErrorMemoryAllocation: the cache may hold the memory the scratch needs.
 */
void ReleaseCachedBlocks();
/** Grid size for n elements at `threads` per block, capped so a grid-stride loop covers the rest. */
inline unsigned GridFor(int64_t n, int threads) {
  int64_t g = (n + threads - 1) / threads;
  if (g < 1) g = 1;
  if (g > 65535 * 16) g = 65535 * 16;
  return static_cast<unsigned>(g);
}
#endif

}  // namespace dilemma::gpu
