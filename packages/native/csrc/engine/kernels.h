// Registration entry points of the native engine's kernels (one kernel per .cc file).
// Each adds its N-API functions to the addon's exports; binding.cc calls them all.
#pragma once
#include <napi.h>

namespace dilemma {
void RegisterMatMul(Napi::Env env, Napi::Object exports);
void RegisterBinary(Napi::Env env, Napi::Object exports);
void RegisterUnary(Napi::Env env, Napi::Object exports);
void RegisterReduce(Napi::Env env, Napi::Object exports);
void RegisterSoftmax(Napi::Env env, Napi::Object exports);
void RegisterTranspose(Napi::Env env, Napi::Object exports);
void RegisterGeluErf(Napi::Env env, Napi::Object exports);
void RegisterLayerNorm(Napi::Env env, Napi::Object exports);
void RegisterStridedCopy(Napi::Env env, Napi::Object exports);
void RegisterAttention(Napi::Env env, Napi::Object exports);
void RegisterMlp(Napi::Env env, Napi::Object exports);
void RegisterOptim(Napi::Env env, Napi::Object exports);
}  // namespace dilemma
