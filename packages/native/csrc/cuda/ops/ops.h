// Registration of the `cuda` backend's N-API functions (contract: docs/cuda-engine.md and
// src/cuda/addon.ts). binding.cc creates `exports.gpu` and calls each of these on it.
// One op family per file pair: <op>.cc (N-API entry, argument checks, the CPU reference that
// the host device runs) and <op>.cu (the CUDA kernel, validated against that reference).
#pragma once
#include <napi.h>

// Weak while the families are written in parallel; made strong once all exist.
#define DILEMMA_GPU_REG __attribute__((weak))
namespace dilemma::gpu {
DILEMMA_GPU_REG void RegisterRuntime(Napi::Env env, Napi::Object gpu);      // runtime.cc: init/alloc/free/upload/download/copy/events/memory
DILEMMA_GPU_REG void RegisterMatMul(Napi::Env env, Napi::Object gpu);       // ops/matmul.cc: cuBLAS GEMM (+ bias/activation epilogue)
DILEMMA_GPU_REG void RegisterDilemma(Napi::Env env, Napi::Object gpu);      // ops/dilemma.cc: DilemmaEmbed / DilemmaEmbedGrad
DILEMMA_GPU_REG void RegisterElementwise(Napi::Env env, Napi::Object gpu);  // ops/elementwise.cc: fill, cast, unary, binary, select, addN
DILEMMA_GPU_REG void RegisterGelu(Napi::Env env, Napi::Object gpu);         // ops/gelu.cc: GeluErf / GeluErfGrad
DILEMMA_GPU_REG void RegisterReduce(Napi::Env env, Napi::Object gpu);       // ops/reduce.cc: sum/mean/max/min/prod/argmax/argmin/any/all
DILEMMA_GPU_REG void RegisterSoftmax(Napi::Env env, Napi::Object gpu);      // ops/softmax.cc
DILEMMA_GPU_REG void RegisterLayerNorm(Napi::Env env, Napi::Object gpu);    // ops/layer_norm.cc
DILEMMA_GPU_REG void RegisterCopy(Napi::Env env, Napi::Object gpu);         // ops/copy.cc: transpose, stridedCopy
DILEMMA_GPU_REG void RegisterAdamW(Napi::Env env, Napi::Object gpu);        // ops/adamw.cc: fused AdamW update
}  // namespace dilemma::gpu
