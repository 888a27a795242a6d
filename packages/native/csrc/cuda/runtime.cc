// The `cuda` backend runtime's N-API functions (contract: docs/cuda-engine.md, src/cuda/addon.ts):
// device info and init, alloc / free of buffers, transfers, events, memory statistics and the
// matMul precision. The buffer table is buffers.cc, the memory behind it allocator.cc, argument
// parsing args.cc.
#include "cuda/runtime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/allocator.h"
#include "cuda/ops/ops.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/cublas_loader.h"
#endif

namespace dilemma::gpu {
namespace {

int g_precision = 0;

#if defined(DILEMMA_HAVE_CUDA)
std::vector<cudaEvent_t> g_events{nullptr};  // eventRecord's events by id (0 = none)
#endif

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
  if (DeviceIndex() >= 0) {
    const cudaDeviceProp& props = DeviceProps();
    Napi::Object d = Napi::Object::New(env);
    d.Set("index", DeviceIndex());
    d.Set("name", std::string(props.name));
    d.Set("computeCapability", std::to_string(props.major) + "." + std::to_string(props.minor));
    d.Set("totalMemoryBytes", static_cast<double>(props.totalGlobalMem));
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
    if (DeviceIndex() < 0) {
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
  return Napi::Number::New(env, static_cast<double>(AddBuf(b)));
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
    if (b->ptr != nullptr) CudaRelease(b->ptr, b->bytes);
#endif
  }
  DropBuf(id);
  return env.Undefined();
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
  UploadStaged(env, dst, src, len);
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
  if (!CheckCuda(env, cudaMemcpyAsync(dst, src, len, cudaMemcpyDeviceToHost, Stream()), "gpu.download")) {
    return env.Undefined();
  }
  CheckCuda(env, cudaStreamSynchronize(Stream()), "gpu.download (a queued kernel failed)");
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
    if (CheckCuda(env, cudaMemcpyAsync(tmp, sp, bytes, cudaMemcpyDeviceToDevice, Stream()), "gpu.copy")) {
      CheckCuda(env, cudaMemcpyAsync(dp, tmp, bytes, cudaMemcpyDeviceToDevice, Stream()), "gpu.copy");
    }
    CudaRelease(tmp, bytes);
    return env.Undefined();
  }
  CheckCuda(env, cudaMemcpyAsync(dp, sp, bytes, cudaMemcpyDeviceToDevice, Stream()), "gpu.copy");
#endif
  return env.Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  if (DeviceIndex() >= 0) CheckCuda(env, cudaStreamSynchronize(Stream()), "gpu.synchronize (a queued kernel failed)");
#endif
  return env.Undefined();
}

Napi::Value EmptyCacheFn(const Napi::CallbackInfo& info) {
#if defined(DILEMMA_HAVE_CUDA)
  ReleaseCachedBlocks();
#endif
  return info.Env().Undefined();
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const BufStats& bufs = BufferStats();
  const CacheStats& cache = AllocatorStats();
  o.Set("allocatedBytes", static_cast<double>(bufs.allocated));
  o.Set("reservedBytes", static_cast<double>(cache.reserved));
  o.Set("peakAllocatedBytes", static_cast<double>(bufs.peak));
  o.Set("liveBuffers", static_cast<double>(bufs.live));
  o.Set("cacheHits", static_cast<double>(cache.cacheHits));
  o.Set("driverAllocs", static_cast<double>(cache.driverAllocs));
  return o;
}

Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(DILEMMA_HAVE_CUDA)
  if (DeviceIndex() < 0) return Throw(env, "gpu.eventRecord: the CUDA device is not open (gpu.init)");
  cudaEvent_t e;
  if (!CheckCuda(env, cudaEventCreate(&e), "gpu.eventRecord")) return env.Undefined();
  if (!CheckCuda(env, cudaEventRecord(e, Stream()), "gpu.eventRecord")) {
    cudaEventDestroy(e);  // not handed out: would leak
    return env.Undefined();
  }
  for (size_t i = 1; i < g_events.size(); ++i) {
    if (g_events[i] == nullptr) {
      g_events[i] = e;
      return Napi::Number::New(env, static_cast<double>(i));
    }
  }
  g_events.push_back(e);
  return Napi::Number::New(env, static_cast<double>(g_events.size() - 1));
#else
  return Throw(env, "gpu.eventRecord: this addon was built without CUDA");
#endif
}

#if defined(DILEMMA_HAVE_CUDA)
cudaEvent_t EventArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const int64_t id = IntArg(info, i);
  if (id <= 0 || id >= static_cast<int64_t>(g_events.size()) || g_events[id] == nullptr) {
    Throw(info.Env(), std::string(what) + ": " + std::to_string(id) + " is not a recorded event");
    return nullptr;
  }
  return g_events[id];
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
  g_events[IntArg(info, 0)] = nullptr;
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

int MatmulPrecision() { return g_precision; }

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
