// Registration entry points of the native engine's kernels (one kernel per .cc file).
// Each adds its N-API functions to the addon's exports; binding.cc calls them all.
#pragma once
#include <napi.h>

namespace dilemma {
void RegisterMatMul(Napi::Env env, Napi::Object exports);
}  // namespace dilemma
