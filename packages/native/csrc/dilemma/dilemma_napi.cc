// N-API bindings of the DILEMMA kernels. Typed arrays are used in place (no copies); every size is
// checked against the shape before a kernel runs, and kernel errors become JS exceptions.
#include "dilemma/dilemma_napi.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "dilemma/embed_cpu.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "dilemma/cuda_check.h"
#endif

namespace {

// Each helper throws a JS exception and returns false / nullptr on a bad argument; callers return.
bool Fail(Napi::Env env, const std::string& msg, bool range = false) {
  if (range) Napi::RangeError::New(env, msg).ThrowAsJavaScriptException();
  else Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return false;
}

bool SizeArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, int64_t* out) {
  if (i >= info.Length() || !info[i].IsNumber()) return Fail(info.Env(), std::string(fn) + ": " + name + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 2147483647.0 && std::floor(v) == v))
    return Fail(info.Env(), std::string(fn) + ": " + name + " must be an integer in [0, 2^31), got " + std::to_string(v), true);
  *out = static_cast<int64_t>(v);
  return true;
}

template <class T, napi_typedarray_type kind>
T* ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, const char* typeName,
            int64_t len) {
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != kind) {
    Fail(info.Env(), std::string(fn) + ": " + name + " must be a " + typeName);
    return nullptr;
  }
  auto arr = info[i].As<Napi::TypedArrayOf<T>>();
  if (static_cast<int64_t>(arr.ElementLength()) != len) {
    Fail(info.Env(),
         std::string(fn) + ": " + name + " has " + std::to_string(arr.ElementLength()) + " elements, the shape needs " +
             std::to_string(len),
         true);
    return nullptr;
  }
  // A zero-length typed array may have no backing store; kernels never touch it then.
  return len == 0 ? reinterpret_cast<T*>(alignof(T)) : arr.Data();
}

float* F32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, int64_t len) {
  return ArrayArg<float, napi_float32_array>(info, i, fn, name, "Float32Array", len);
}
int32_t* I32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, int64_t len) {
  return ArrayArg<int32_t, napi_int32_array>(info, i, fn, name, "Int32Array", len);
}

// dilemmaEmbedForward(tokens, pos, realPos, inputPos, B, L, K, D, out)
Napi::Value EmbedForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dilemmaEmbedForward";
  int64_t B = 0, L = 0, K = 0, D = 0;
  if (!SizeArg(info, 4, fn, "B", &B) || !SizeArg(info, 5, fn, "L", &L) || !SizeArg(info, 6, fn, "K", &K) ||
      !SizeArg(info, 7, fn, "D", &D))
    return env.Undefined();
  const float* tokens = F32(info, 0, fn, "tokens [B,L,D]", B * L * D);
  if (!tokens) return env.Undefined();
  const float* pos = F32(info, 1, fn, "pos [L,D]", L * D);
  if (!pos) return env.Undefined();
  const int32_t* realPos = I32(info, 2, fn, "realPos [B,K]", B * K);
  if (!realPos) return env.Undefined();
  const int32_t* inputPos = I32(info, 3, fn, "inputPos [B,K]", B * K);
  if (!inputPos) return env.Undefined();
  float* out = F32(info, 8, fn, "out [B,K,D]", B * K * D);
  if (!out) return env.Undefined();
  const std::string err = dilemma::embed_fwd_cpu(tokens, pos, realPos, inputPos, B, L, K, D, out);
  if (!err.empty()) Napi::RangeError::New(env, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

// dilemmaEmbedBackward(dy, realPos, inputPos, B, L, K, D, dTokens, dPos)
Napi::Value EmbedBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dilemmaEmbedBackward";
  int64_t B = 0, L = 0, K = 0, D = 0;
  if (!SizeArg(info, 3, fn, "B", &B) || !SizeArg(info, 4, fn, "L", &L) || !SizeArg(info, 5, fn, "K", &K) ||
      !SizeArg(info, 6, fn, "D", &D))
    return env.Undefined();
  const float* dy = F32(info, 0, fn, "dy [B,K,D]", B * K * D);
  if (!dy) return env.Undefined();
  const int32_t* realPos = I32(info, 1, fn, "realPos [B,K]", B * K);
  if (!realPos) return env.Undefined();
  const int32_t* inputPos = I32(info, 2, fn, "inputPos [B,K]", B * K);
  if (!inputPos) return env.Undefined();
  float* dTokens = F32(info, 7, fn, "dTokens [B,L,D]", B * L * D);
  if (!dTokens) return env.Undefined();
  float* dPos = F32(info, 8, fn, "dPos [L,D]", L * D);
  if (!dPos) return env.Undefined();
  const std::string err = dilemma::embed_bwd_cpu(dy, realPos, inputPos, B, L, K, D, dTokens, dPos);
  if (!err.empty()) Napi::RangeError::New(env, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

#if defined(DILEMMA_HAVE_CUDA)
// cudaDilemmaCheck({ B, L, K, D, p?, seed?, step?, reps? }) -> { device, cc, copyGBps, boundsErrorDetected, rows }
Napi::Value CudaCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Fail(env, "cudaDilemmaCheck: expected an options object { B, L, K, D, p?, seed?, step?, reps? }");
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  dilemma::CudaCheckOptions opt;
  auto num = [&](const char* k, double def) {
    Napi::Value v = o.Get(k);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
  };
  opt.B = static_cast<int>(num("B", opt.B));
  opt.L = static_cast<int>(num("L", opt.L));
  opt.K = static_cast<int>(num("K", opt.K));
  opt.D = static_cast<int>(num("D", opt.D));
  opt.p = num("p", opt.p);
  opt.seed = static_cast<uint64_t>(num("seed", 0));
  opt.step = static_cast<uint32_t>(num("step", 0));
  opt.reps = static_cast<int>(num("reps", opt.reps));
  if (opt.D < 1 || opt.reps < 1) {
    Fail(env, "cudaDilemmaCheck: D and reps must be >= 1", true);
    return env.Undefined();
  }
  dilemma::CudaCheckResult res;
  const std::string err = dilemma::cuda_dilemma_check(opt, &res);
  if (!err.empty()) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("device", res.device);
  out.Set("cc", std::to_string(res.ccMajor) + "." + std::to_string(res.ccMinor));
  out.Set("copyGBps", res.copyGBps);
  out.Set("boundsErrorDetected", res.boundsErrorDetected);
  Napi::Array rows = Napi::Array::New(env, res.rows.size());
  for (size_t i = 0; i < res.rows.size(); ++i) {
    const auto& r = res.rows[i];
    Napi::Object row = Napi::Object::New(env);
    row.Set("kernel", r.kernel);
    row.Set("maxAbsErr", r.maxAbsErr);
    row.Set("mismatches", static_cast<double>(r.mismatches));
    row.Set("us", r.us);
    row.Set("bytes", r.bytes);
    rows.Set(static_cast<uint32_t>(i), row);
  }
  out.Set("rows", rows);
  return out;
}
#endif

}  // namespace

void InitDilemma(Napi::Env env, Napi::Object exports) {
  exports.Set("dilemmaEmbedForward", Napi::Function::New(env, EmbedForward, "dilemmaEmbedForward"));
  exports.Set("dilemmaEmbedBackward", Napi::Function::New(env, EmbedBackward, "dilemmaEmbedBackward"));
#if defined(DILEMMA_HAVE_CUDA)
  exports.Set("cudaDilemmaCheck", Napi::Function::New(env, CudaCheck, "cudaDilemmaCheck"));
#endif
}
