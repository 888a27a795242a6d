// Device runtime of the `cuda` backend (contract: docs/cuda-engine.md, src/cuda/addon.ts):
// the buffer table, the host and CUDA allocators, transfers, events, and argument helpers.
#include "cuda/runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cuda/cublas_loader.h"
#include "cuda/ops/ops.h"

namespace dilemma::gpu {
namespace {

// ---- buffer table: ids are indices (0 = none), recycled through a free list ----
std::vector<Buf> g_bufs(1);
std::vector<bool> g_live(1, false);
std::vector<int64_t> g_freeIds;

struct Stats {
  size_t allocated = 0, reserved = 0, peak = 0;
  int64_t live = 0, cacheHits = 0, driverAllocs = 0;
} g_stats;

int g_precision = 0;

// Host blocks: 64-byte aligned so the references (and any vectorised loops) see aligned rows.
void* HostAlloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
}

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
  std::vector<cudaEvent_t> events{nullptr};  // id 0 = none
};
Device g_dev;

constexpr size_t kChunkBytes = 8u << 20;
constexpr int kChunks = 8;

size_t RoundSize(size_t bytes) {
  if (bytes < (1u << 20)) return (bytes + 511) / 512 * 512;
  return (bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
}

std::string CudaErr(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

// Opens device `index` once; "" on success, else why not.
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

void EmptyCache() {
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

// A device block of RoundSize(bytes); nullptr + error on failure (after emptying the cache once).
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
    EmptyCache();
    e = cudaMalloc(&p, size);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    *err = "cudaMalloc of " + std::to_string(size) + " bytes failed (" + CudaErr(e) + "); " +
           std::to_string(g_stats.allocated) + " bytes are live. Use a smaller batch or model.";
    return nullptr;
  }
  ++g_stats.driverAllocs;
  g_stats.reserved += size;
  return p;
}
#endif

Buf* Lookup(Napi::Env env, int64_t id, const char* what, size_t i) {
  if (id <= 0 || id >= static_cast<int64_t>(g_bufs.size()) || !g_live[id]) {
    Throw(env, std::string(what) + ": argument " + std::to_string(i) + " (buffer id " + std::to_string(id) +
                   ") is not a live buffer");
    return nullptr;
  }
  return &g_bufs[id];
}

// ---- N-API functions ----

Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#if defined(DILEMMA_HAVE_CUDA)
  out.Set("compiled", true);
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    count = 0;
    cudaGetLastError();
  }
  out.Set("devices", count);
  if (g_dev.index >= 0) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("index", g_dev.index);
    d.Set("name", std::string(g_dev.props.name));
    d.Set("computeCapability", std::to_string(g_dev.props.major) + "." + std::to_string(g_dev.props.minor));
    d.Set("totalMemoryBytes", static_cast<double>(g_dev.props.totalGlobalMem));
    out.Set("device", d);
    const auto& cb = cublas::Load();
    Napi::Object c = Napi::Object::New(env);
    c.Set("library", cb.library);
    c.Set("version", env.Null());  // needs a handle; the matmul family reports it once it has one
    out.Set("cublas", c);
  } else {
    out.Set("device", env.Null());
    out.Set("cublas", env.Null());
  }
#else
  out.Set("compiled", false);
  out.Set("devices", 0);
  out.Set("device", env.Null());
  out.Set("cublas", env.Null());
#endif
  out.Set("precision", g_precision);
  return out;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  const int index = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  const std::string err = OpenDevice(index);
  if (!err.empty()) return Throw(env, "gpu.init: " + err);
  return env.Undefined();
#else
  return Throw(env, "gpu.init: this addon was built without CUDA (nvcc was not found at build time). Install the "
                    "CUDA toolkit and rebuild: DILEMMA_CUDA=on npm run build:addon -w @dilemma/native");
#endif
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t where = IntArg(info, 0);
  const double bytesD = NumArg(info, 1);
  if (env.IsExceptionPending()) return env.Undefined();
  if (!(bytesD >= 0) || bytesD > 9.0e15) return Throw(env, "gpu.alloc: bytes must be a non-negative number");
  const size_t bytes = static_cast<size_t>(bytesD);
  Buf b;
  b.bytes = bytes;
  if (where == static_cast<int>(Where::kHost)) {
    b.where = Where::kHost;
    b.ptr = HostAlloc(bytes);
    if (bytes > 0 && b.ptr == nullptr) return Throw(env, "gpu.alloc: out of host memory for " + std::to_string(bytes) + " bytes");
  } else if (where == static_cast<int>(Where::kCuda)) {
#if defined(DILEMMA_HAVE_CUDA)
    if (g_dev.index < 0) {
      const std::string err = OpenDevice(0);
      if (!err.empty()) return Throw(env, "gpu.alloc: " + err);
    }
    b.where = Where::kCuda;
    if (bytes > 0) {
      std::string err;
      b.ptr = CudaAlloc(bytes, &err);
      if (b.ptr == nullptr) return Throw(env, "gpu.alloc: " + err);
    }
#else
    return Throw(env, "gpu.alloc: this addon was built without CUDA; rebuild with DILEMMA_CUDA=on on a machine with nvcc");
#endif
  } else {
    return Throw(env, "gpu.alloc: where must be 0 (host) or 1 (cuda), got " + std::to_string(where));
  }
  int64_t id;
  if (!g_freeIds.empty()) {
    id = g_freeIds.back();
    g_freeIds.pop_back();
  } else {
    id = static_cast<int64_t>(g_bufs.size());
    g_bufs.emplace_back();
    g_live.push_back(false);
  }
  g_bufs[id] = b;
  g_live[id] = true;
  g_stats.allocated += bytes;
  if (g_stats.allocated > g_stats.peak) g_stats.peak = g_stats.allocated;
  ++g_stats.live;
  return Napi::Number::New(env, static_cast<double>(id));
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf* b = BufArg(info, 0, 0, "gpu.free");
  if (b == nullptr) return env.Undefined();
  const int64_t id = IntArg(info, 0);
  if (b->where == Where::kHost) {
    std::free(b->ptr);
  } else {
#if defined(DILEMMA_HAVE_CUDA)
    if (b->ptr != nullptr) g_dev.cache[RoundSize(b->bytes)].push_back(b->ptr);
#endif
  }
  g_stats.allocated -= b->bytes;
  --g_stats.live;
  *b = Buf{};
  g_live[id] = false;
  g_freeIds.push_back(id);
  return env.Undefined();
}

// (ArrayBufferView argument i) -> bytes pointer and length, or nullptr after throwing.
uint8_t* ViewArg(const Napi::CallbackInfo& info, size_t i, size_t* len, const char* what) {
  if (i < info.Length() && info[i].IsTypedArray()) {
    auto t = info[i].As<Napi::TypedArray>();
    *len = t.ByteLength();
    return static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  }
  if (i < info.Length() && info[i].IsDataView()) {
    auto d = info[i].As<Napi::DataView>();
    *len = d.ByteLength();
    return static_cast<uint8_t*>(d.ArrayBuffer().Data()) + d.ByteOffset();
  }
  Throw(info.Env(), std::string(what) + ": argument " + std::to_string(i) + " must be a typed array");
  return nullptr;
}

// Byte offsets / counts from JS: non-numbers and NaN read as 0; values are clamped to 2^53 so the
// double -> size_t cast is defined and `off + len` cannot wrap around past the BufArg size check.
size_t OffsetArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) return 0;
  const double v = info[i].As<Napi::Number>().DoubleValue();
  return v > 0 ? static_cast<size_t>(std::min(v, 9007199254740992.0)) : 0;
}

Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t len = 0;
  const uint8_t* src = ViewArg(info, 1, &len, "gpu.upload");
  if (src == nullptr) return env.Undefined();
  const size_t off = OffsetArg(info, 2);
  Buf* b = BufArg(info, 0, off + len, "gpu.upload");
  if (b == nullptr || len == 0) return env.Undefined();
  uint8_t* dst = static_cast<uint8_t*>(b->ptr) + off;
  if (b->where == Where::kHost) {
    std::memcpy(dst, src, len);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  for (size_t done = 0; done < len;) {
    const size_t piece = std::min(kChunkBytes, len - done);
    auto& c = g_dev.ring[g_dev.next];
    g_dev.next = (g_dev.next + 1) % g_dev.ring.size();
    if (!CheckCuda(env, cudaEventSynchronize(c.done), "gpu.upload (staging wait)")) return env.Undefined();
    std::memcpy(c.host, src + done, piece);
    if (!CheckCuda(env, cudaMemcpyAsync(dst + done, c.host, piece, cudaMemcpyHostToDevice, g_dev.stream), "gpu.upload")) {
      return env.Undefined();
    }
    if (!CheckCuda(env, cudaEventRecord(c.done, g_dev.stream), "gpu.upload (event)")) return env.Undefined();
    done += piece;
  }
#endif
  return env.Undefined();
}

Napi::Value Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t len = 0;
  uint8_t* dst = ViewArg(info, 1, &len, "gpu.download");
  if (dst == nullptr) return env.Undefined();
  const size_t off = OffsetArg(info, 2);
  Buf* b = BufArg(info, 0, off + len, "gpu.download");
  if (b == nullptr || len == 0) return env.Undefined();
  const uint8_t* src = static_cast<const uint8_t*>(b->ptr) + off;
  if (b->where == Where::kHost) {
    std::memcpy(dst, src, len);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  // Pageable destination: the copy is ordered after all queued kernels, then we wait for it.
  if (!CheckCuda(env, cudaMemcpyAsync(dst, src, len, cudaMemcpyDeviceToHost, g_dev.stream), "gpu.download")) {
    return env.Undefined();
  }
  CheckCuda(env, cudaStreamSynchronize(g_dev.stream), "gpu.download (a queued kernel failed)");
#endif
  return env.Undefined();
}

Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t dOff = OffsetArg(info, 1), sOff = OffsetArg(info, 3);
  const double bytesD = NumArg(info, 4);
  if (env.IsExceptionPending()) return env.Undefined();
  const size_t bytes = bytesD > 0 ? static_cast<size_t>(std::min(bytesD, 9007199254740992.0)) : 0;
  Buf* d = BufArg(info, 0, dOff + bytes, "gpu.copy (dst)");
  if (d == nullptr) return env.Undefined();
  Buf* s = BufArg(info, 2, sOff + bytes, "gpu.copy (src)");
  if (s == nullptr) return env.Undefined();
  Where w;
  if (!SameDevice(info, "gpu.copy", {d, s}, &w) || bytes == 0) return env.Undefined();
  uint8_t* dp = static_cast<uint8_t*>(d->ptr) + dOff;
  const uint8_t* sp = static_cast<const uint8_t*>(s->ptr) + sOff;
  if (w == Where::kHost) {
    std::memmove(dp, sp, bytes);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  if (dp == sp) return env.Undefined();
  if (dp < sp + bytes && sp < dp + bytes) {
    // Overlapping ranges of one buffer: cudaMemcpy* is undefined there, while the host path is a
    // memmove. Stage through a cached block (stream-ordered: it can go back to the cache at once).
    std::string err;
    void* tmp = CudaAlloc(bytes, &err);
    if (tmp == nullptr) return Throw(env, "gpu.copy: " + err);
    if (CheckCuda(env, cudaMemcpyAsync(tmp, sp, bytes, cudaMemcpyDeviceToDevice, g_dev.stream), "gpu.copy")) {
      CheckCuda(env, cudaMemcpyAsync(dp, tmp, bytes, cudaMemcpyDeviceToDevice, g_dev.stream), "gpu.copy");
    }
    g_dev.cache[RoundSize(bytes)].push_back(tmp);
    return env.Undefined();
  }
  CheckCuda(env, cudaMemcpyAsync(dp, sp, bytes, cudaMemcpyDeviceToDevice, g_dev.stream), "gpu.copy");
#endif
  return env.Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  if (g_dev.index >= 0) CheckCuda(env, cudaStreamSynchronize(g_dev.stream), "gpu.synchronize (a queued kernel failed)");
#endif
  return env.Undefined();
}

Napi::Value EmptyCacheFn(const Napi::CallbackInfo& info) {
#if defined(DILEMMA_HAVE_CUDA)
  EmptyCache();
#endif
  return info.Env().Undefined();
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocatedBytes", static_cast<double>(g_stats.allocated));
  o.Set("reservedBytes", static_cast<double>(g_stats.reserved));
  o.Set("peakAllocatedBytes", static_cast<double>(g_stats.peak));
  o.Set("liveBuffers", static_cast<double>(g_stats.live));
  o.Set("cacheHits", static_cast<double>(g_stats.cacheHits));
  o.Set("driverAllocs", static_cast<double>(g_stats.driverAllocs));
  return o;
}

Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  if (g_dev.index < 0) return Throw(env, "gpu.eventRecord: the CUDA device is not open (gpu.init)");
  cudaEvent_t e;
  if (!CheckCuda(env, cudaEventCreate(&e), "gpu.eventRecord")) return env.Undefined();
  if (!CheckCuda(env, cudaEventRecord(e, g_dev.stream), "gpu.eventRecord")) {
    cudaEventDestroy(e);  // not handed out: would leak
    return env.Undefined();
  }
  for (size_t i = 1; i < g_dev.events.size(); ++i) {
    if (g_dev.events[i] == nullptr) {
      g_dev.events[i] = e;
      return Napi::Number::New(env, static_cast<double>(i));
    }
  }
  g_dev.events.push_back(e);
  return Napi::Number::New(env, static_cast<double>(g_dev.events.size() - 1));
#else
  return Throw(env, "gpu.eventRecord: this addon was built without CUDA");
#endif
}

#if defined(DILEMMA_HAVE_CUDA)
cudaEvent_t EventArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const int64_t id = IntArg(info, i);
  if (id <= 0 || id >= static_cast<int64_t>(g_dev.events.size()) || g_dev.events[id] == nullptr) {
    Throw(info.Env(), std::string(what) + ": " + std::to_string(id) + " is not a recorded event");
    return nullptr;
  }
  return g_dev.events[id];
}
#endif

Napi::Value EventElapsedMs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  cudaEvent_t a = EventArg(info, 0, "gpu.eventElapsedMs");
  if (a == nullptr) return env.Undefined();
  cudaEvent_t b = EventArg(info, 1, "gpu.eventElapsedMs");
  if (b == nullptr) return env.Undefined();
  if (!CheckCuda(env, cudaEventSynchronize(b), "gpu.eventElapsedMs")) return env.Undefined();
  float ms = 0;
  if (!CheckCuda(env, cudaEventElapsedTime(&ms, a, b), "gpu.eventElapsedMs")) return env.Undefined();
  return Napi::Number::New(env, ms);
#else
  return Throw(env, "gpu.eventElapsedMs: this addon was built without CUDA");
#endif
}

Napi::Value EventFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  cudaEvent_t e = EventArg(info, 0, "gpu.eventFree");
  if (e == nullptr) return env.Undefined();
  cudaEventDestroy(e);
  g_dev.events[IntArg(info, 0)] = nullptr;
#endif
  return env.Undefined();
}

Napi::Value SetMatmulPrecision(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t p = IntArg(info, 0);
  if (env.IsExceptionPending()) return env.Undefined();
  if (p < 0 || p > 2) return Throw(env, "gpu.setMatmulPrecision: expected 0 (fp32), 1 (tf32) or 2 (bf16), got " + std::to_string(p));
  g_precision = static_cast<int>(p);
  return env.Undefined();
}

}  // namespace

// ---- helpers declared in runtime.h ----

Napi::Value Throw(Napi::Env env, const std::string& msg) {
  Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number").ThrowAsJavaScriptException();
    return 0;
  }
  return info[i].As<Napi::Number>().Int64Value();
}

double NumArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number").ThrowAsJavaScriptException();
    return 0;
  }
  return info[i].As<Napi::Number>().DoubleValue();
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && info[i].ToBoolean().Value(); }

int DimsArg(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what) {
  if (i >= info.Length() || !info[i].IsArray()) {
    Throw(info.Env(), std::string(what) + ": argument " + std::to_string(i) + " must be an array of numbers");
    return -1;
  }
  auto arr = info[i].As<Napi::Array>();
  const uint32_t n = arr.Length();
  if (n > static_cast<uint32_t>(kMaxDims)) {
    Throw(info.Env(), std::string(what) + ": rank " + std::to_string(n) + " exceeds the supported " + std::to_string(kMaxDims));
    return -1;
  }
  for (uint32_t d = 0; d < n; ++d) {
    Napi::Value v = arr.Get(d);
    if (!v.IsNumber()) {
      Throw(info.Env(), std::string(what) + ": argument " + std::to_string(i) + "[" + std::to_string(d) + "] is not a number");
      return -1;
    }
    out[d] = v.As<Napi::Number>().Int64Value();
  }
  return static_cast<int>(n);
}

Buf* BufArg(const Napi::CallbackInfo& info, size_t i, size_t minBytes, const char* what) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsNumber()) {
    Throw(env, std::string(what) + ": argument " + std::to_string(i) + " must be a buffer id");
    return nullptr;
  }
  Buf* b = Lookup(env, info[i].As<Napi::Number>().Int64Value(), what, i);
  if (b == nullptr) return nullptr;
  if (b->bytes < minBytes) {
    Throw(env, std::string(what) + ": buffer argument " + std::to_string(i) + " has " + std::to_string(b->bytes) +
                   " bytes, the kernel needs " + std::to_string(minBytes));
    return nullptr;
  }
  return b;
}

Buf* OptBufArg(const Napi::CallbackInfo& info, size_t i, size_t minBytes, const char* what) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  if (info[i].IsNumber() && info[i].As<Napi::Number>().Int64Value() == 0) return nullptr;
  return BufArg(info, i, minBytes, what);
}

// A double as JS prints it (no trailing zeros) for error messages.
static std::string JsNumber(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

const double* F64ArrayArg(const Napi::CallbackInfo& info, size_t i, size_t* len, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    Throw(info.Env(), std::string(what) + ": argument " + std::to_string(i) + " must be a Float64Array");
    return nullptr;
  }
  auto arr = info[i].As<Napi::Float64Array>();
  *len = arr.ElementLength();
  return arr.Data();
}

Buf* BufById(Napi::Env env, double id, size_t minBytes, const std::string& what) {
  // the range check first: the cast of a non-finite or huge double to int64 is undefined
  if (!(id >= 1 && id < static_cast<double>(g_bufs.size())) || id != static_cast<double>(static_cast<int64_t>(id)) ||
      !g_live[static_cast<int64_t>(id)]) {
    Throw(env, what + ": buffer id " + JsNumber(id) + " is not a live buffer");
    return nullptr;
  }
  Buf* b = &g_bufs[static_cast<int64_t>(id)];
  if (b->bytes < minBytes) {
    Throw(env, what + ": buffer has " + std::to_string(b->bytes) + " bytes, the kernel needs " + std::to_string(minBytes));
    return nullptr;
  }
  return b;
}

int64_t CountOf(Napi::Env env, double n, const std::string& what) {
  if (!(n >= 0 && n <= 9007199254740992.0) || n != static_cast<double>(static_cast<int64_t>(n))) {
    Throw(env, what + ": element count " + JsNumber(n) + " is not a non-negative integer");
    return -1;
  }
  return static_cast<int64_t>(n);
}

bool SameDevice(const Napi::CallbackInfo& info, const char* what, std::initializer_list<const Buf*> bufs, Where* where) {
  bool first = true;
  for (const Buf* b : bufs) {
    if (b == nullptr) continue;
    if (first) {
      *where = b->where;
      first = false;
    } else if (b->where != *where) {
      Throw(info.Env(), std::string(what) + ": buffers are on different devices (host and cuda); copy them to one device first");
      return false;
    }
  }
  if (first) *where = Where::kHost;
  return true;
}

int MatmulPrecision() { return g_precision; }

#if defined(DILEMMA_HAVE_CUDA)
cudaStream_t Stream() { return g_dev.stream; }

void ReleaseCachedBlocks() { EmptyCache(); }

bool CheckCuda(Napi::Env env, cudaError_t e, const char* what) {
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e == cudaSuccess) return true;
  Throw(env, std::string(what) + ": CUDA error " + CudaErr(e));
  return false;
}
#endif

void RegisterRuntime(Napi::Env env, Napi::Object gpu) {
  gpu.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
  gpu.Set("init", Napi::Function::New(env, Init, "init"));
  gpu.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  gpu.Set("free", Napi::Function::New(env, Free, "free"));
  gpu.Set("upload", Napi::Function::New(env, Upload, "upload"));
  gpu.Set("download", Napi::Function::New(env, Download, "download"));
  gpu.Set("copy", Napi::Function::New(env, Copy, "copy"));
  gpu.Set("synchronize", Napi::Function::New(env, Synchronize, "synchronize"));
  gpu.Set("emptyCache", Napi::Function::New(env, EmptyCacheFn, "emptyCache"));
  gpu.Set("memory", Napi::Function::New(env, Memory, "memory"));
  gpu.Set("eventRecord", Napi::Function::New(env, EventRecord, "eventRecord"));
  gpu.Set("eventElapsedMs", Napi::Function::New(env, EventElapsedMs, "eventElapsedMs"));
  gpu.Set("eventFree", Napi::Function::New(env, EventFree, "eventFree"));
  gpu.Set("setMatmulPrecision", Napi::Function::New(env, SetMatmulPrecision, "setMatmulPrecision"));
}

}  // namespace dilemma::gpu
