// @dilemma/native addon entry: info() plus the engine kernels (csrc/engine) and the DILEMMA
// kernels (csrc/dilemma, plugged in through dilemma/dilemma_napi.h when present).
#include <napi.h>

#include <string>

#include "cuda/cublas_loader.h"
#include "cuda/ops/ops.h"
#include "engine/kernels.h"
#include "engine/sgemm.h"
#include "engine/threadpool.h"
#include "op_codes.h"

#if __has_include("dilemma/dilemma_napi.h")
#include "dilemma/dilemma_napi.h"
#define DILEMMA_HAVE_DILEMMA_KERNELS 1
#endif

#if defined(DILEMMA_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstdlib>

#ifndef DILEMMA_VERSION
#define DILEMMA_VERSION "0.0.0"
#endif

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", std::string(DILEMMA_VERSION));
  Napi::Object cuda = Napi::Object::New(env);
#if defined(DILEMMA_HAVE_CUDA)
  cuda.Set("compiled", true);
  cuda.Set("archs", std::string(DILEMMA_CUDA_ARCHS));
  int rt = 0;
  cuda.Set("runtimeVersion", cudaRuntimeGetVersion(&rt) == cudaSuccess ? Napi::Value(Napi::Number::New(env, rt))
                                                                       : env.Null());
  // Without a driver this returns cudaErrorNoDevice / InsufficientDriver: that means 0 devices.
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess) {
    devices = 0;
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
  }
  cuda.Set("devices", devices);
#else
  cuda.Set("compiled", false);
  cuda.Set("archs", "");
  cuda.Set("runtimeVersion", env.Null());
  cuda.Set("devices", 0);
#endif
  // cuBLAS is loaded at run time (see cuda/cublas_loader.h): report whether it would be found.
  const auto& cublasLoad = dilemma::cublas::Load();
  Napi::Object cublas = Napi::Object::New(env);
  cublas.Set("available", cublasLoad.api != nullptr);
  cublas.Set("library", cublasLoad.library);
  cublas.Set("error", cublasLoad.api != nullptr ? env.Null() : Napi::Value(Napi::String::New(env, cublasLoad.error)));
  cuda.Set("cublas", cublas);
  out.Set("cuda", cuda);
  out.Set("blas", std::string(dilemma::BlasName()));
  out.Set("threads", dilemma::NumThreads());
  out.Set("blasThreads", dilemma::BlasThreads());
#if defined(DILEMMA_HAVE_DILEMMA_KERNELS)
  out.Set("dilemmaKernels", true);
#else
  out.Set("dilemmaKernels", false);
#endif
  return out;
}

// The op-code lists this addon was built with ({ unary: { Abs: 0, ... }, binary, reduce, act }):
// src/addon.ts refuses an addon whose lists differ from the TypeScript tables.
Napi::Object OpCodes(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Object table = Napi::Object::New(env);
#define DILEMMA_OP_ENTRY(name, code) table.Set(#name, code);
  DILEMMA_UNARY_OPS(DILEMMA_OP_ENTRY)
  out.Set("unary", table);
  table = Napi::Object::New(env);
  DILEMMA_BINARY_OPS(DILEMMA_OP_ENTRY)
  out.Set("binary", table);
  table = Napi::Object::New(env);
  DILEMMA_REDUCE_OPS(DILEMMA_OP_ENTRY)
  out.Set("reduce", table);
  table = Napi::Object::New(env);
  DILEMMA_ACT_OPS(DILEMMA_OP_ENTRY)
  out.Set("act", table);
#undef DILEMMA_OP_ENTRY
  return out;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  dilemma::SetBlasThreads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// tfjs allocates a fresh typed array for every kernel output and frees it only at GC. glibc
// serves big blocks with mmap, so each output costs page faults on first touch (half a step
// on large activations). Keeping big blocks in the heap lets them be reused. Opt out with
// DILEMMA_MALLOC_TUNE=0.
void TuneMalloc() {
#if defined(__GLIBC__)
  const char* env = std::getenv("DILEMMA_MALLOC_TUNE");
  if (env != nullptr && std::string(env) == "0") return;
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1024 << 20);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  TuneMalloc();
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setBlasThreads", Napi::Function::New(env, SetThreads, "setBlasThreads"));
  exports.Set("opCodes", OpCodes(env));
  dilemma::SetBlasThreads(1);  // our pool parallelizes around BLAS (see engine/matmul.cc)
  dilemma::RegisterMatMul(env, exports);
  dilemma::RegisterBinary(env, exports);
  dilemma::RegisterUnary(env, exports);
  dilemma::RegisterReduce(env, exports);
  dilemma::RegisterSoftmax(env, exports);
  dilemma::RegisterTranspose(env, exports);
  dilemma::RegisterGeluErf(env, exports);
  dilemma::RegisterLayerNorm(env, exports);
  dilemma::RegisterStridedCopy(env, exports);
  dilemma::RegisterAttention(env, exports);
  dilemma::RegisterMlp(env, exports);
  dilemma::RegisterOptim(env, exports);
#if defined(DILEMMA_HAVE_DILEMMA_KERNELS)
  InitDilemma(env, exports);
#endif
  // The `cuda` backend's device runtime and kernels (docs/cuda-engine.md).
  Napi::Object gpu = Napi::Object::New(env);
  for (auto reg : {dilemma::gpu::RegisterRuntime, dilemma::gpu::RegisterMatMul, dilemma::gpu::RegisterDilemma,
                   dilemma::gpu::RegisterElementwise, dilemma::gpu::RegisterGelu, dilemma::gpu::RegisterReduce,
                   dilemma::gpu::RegisterSoftmax, dilemma::gpu::RegisterLayerNorm, dilemma::gpu::RegisterBatchNorm,
                   dilemma::gpu::RegisterCopy,
                   dilemma::gpu::RegisterAdamW, dilemma::gpu::RegisterEma,
                   dilemma::gpu::RegisterFused}) {
    reg(env, gpu);
  }
  exports.Set("gpu", gpu);
  return exports;
}

}  // namespace

NODE_API_MODULE(dilemma_native, Init)
