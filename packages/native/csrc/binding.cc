// @dilemma/native addon entry: info() plus the engine kernels (csrc/engine) and the DILEMMA
// kernels (csrc/dilemma, plugged in through dilemma/dilemma_napi.h when present).
#include <napi.h>

#include <string>

#include "engine/kernels.h"
#include "engine/sgemm.h"
#include "engine/threadpool.h"

#if __has_include("dilemma/dilemma_napi.h")
#include "dilemma/dilemma_napi.h"
#define DILEMMA_HAVE_DILEMMA_KERNELS 1
#endif

#if defined(DILEMMA_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

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
  out.Set("cuda", cuda);
  out.Set("blas", std::string(dilemma::BlasName()));
  out.Set("threads", dilemma::NumThreads());
#if defined(DILEMMA_HAVE_DILEMMA_KERNELS)
  out.Set("dilemmaKernels", true);
#else
  out.Set("dilemmaKernels", false);
#endif
  return out;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  dilemma::SetBlasThreads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setBlasThreads", Napi::Function::New(env, SetThreads, "setBlasThreads"));
  dilemma::SetBlasThreads(dilemma::NumThreads());
  dilemma::RegisterMatMul(env, exports);
  dilemma::RegisterBinary(env, exports);
  dilemma::RegisterUnary(env, exports);
  dilemma::RegisterReduce(env, exports);
  dilemma::RegisterSoftmax(env, exports);
  dilemma::RegisterTranspose(env, exports);
  dilemma::RegisterGeluErf(env, exports);
  dilemma::RegisterLayerNorm(env, exports);
  dilemma::RegisterStridedCopy(env, exports);
#if defined(DILEMMA_HAVE_DILEMMA_KERNELS)
  InitDilemma(env, exports);
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(dilemma_native, Init)
