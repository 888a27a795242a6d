// Small helpers for reading kernel arguments: typed-array views (no copies) and numbers.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace dilemma {

/** Float32Array argument i (JS allocates outputs; C++ fills them in place). */
inline float* F32Arg(const Napi::CallbackInfo& info, size_t i, size_t minLen, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(info.Env(), std::string(what) + ": expected a Float32Array").ThrowAsJavaScriptException();
    return nullptr;
  }
  auto arr = info[i].As<Napi::Float32Array>();
  if (arr.ElementLength() < minLen) {
    Napi::RangeError::New(info.Env(), std::string(what) + ": Float32Array has " + std::to_string(arr.ElementLength()) +
                                          " elements, kernel needs " + std::to_string(minLen))
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  return arr.Data();
}

/** Optional Float32Array (null/undefined -> nullptr, no error). */
inline float* OptF32Arg(const Napi::CallbackInfo& info, size_t i, size_t minLen, const char* what) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return F32Arg(info, i, minLen, what);
}

inline int64_t IntArg(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int64_t>(info[i].As<Napi::Number>().Int64Value());
}
inline double NumArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }

}  // namespace dilemma
