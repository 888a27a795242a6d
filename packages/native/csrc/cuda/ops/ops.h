// Registration of the `cuda` backend's N-API functions (contract: docs/cuda-engine.md and
// src/cuda/addon.ts). binding.cc creates `exports.gpu` and calls each of these on it.
// One op family per file pair: <op>.cc (N-API entry, argument checks, the CPU reference that
// the host device runs) and <op>.cu (the CUDA kernel, validated against that reference).
#pragma once
#include <napi.h>

namespace dilemma::gpu {
void RegisterRuntime(Napi::Env env, Napi::Object gpu);      // runtime.cc: init/alloc/free/upload/download/copy/events/memory
void RegisterMatMul(Napi::Env env, Napi::Object gpu);       // ops/matmul.cc: cuBLAS GEMM (+ bias/activation epilogue)
void RegisterDilemma(Napi::Env env, Napi::Object gpu);      // ops/dilemma.cc: DilemmaEmbed / DilemmaEmbedGrad
void RegisterElementwise(Napi::Env env, Napi::Object gpu);  // ops/elementwise.cc: fill, cast, unary, binary, select, addN
void RegisterGelu(Napi::Env env, Napi::Object gpu);         // ops/gelu.cc: GeluErf / GeluErfGrad
void RegisterReduce(Napi::Env env, Napi::Object gpu);       // ops/reduce.cc: sum/mean/max/min/prod/argmax/argmin/any/all
void RegisterSoftmax(Napi::Env env, Napi::Object gpu);      // ops/softmax.cc
void RegisterLayerNorm(Napi::Env env, Napi::Object gpu);    // ops/layer_norm.cc
void RegisterBatchNorm(Napi::Env env, Napi::Object gpu);    // ops/batch_norm.cc: BatchNorm1d / BatchNorm1dGrad (training mode)
void RegisterCopy(Napi::Env env, Napi::Object gpu);         // ops/copy.cc: transpose, stridedCopy
void RegisterAdamW(Napi::Env env, Napi::Object gpu);        // ops/adamw.cc: fused AdamW update (one / N tensors)
void RegisterEma(Napi::Env env, Napi::Object gpu);          // ops/ema.cc: fused momentum-encoder update (one / N)
void RegisterFused(Napi::Env env, Napi::Object gpu);        // ops/fused.cc: FusedAttention / FusedMlp (+ grads)
}  // namespace dilemma::gpu
