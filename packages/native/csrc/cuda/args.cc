// Argument parsing for the `cuda` backend's N-API functions (see args.h).
#include "cuda/args.h"

#include <algorithm>
#include <cstdio>

namespace dilemma::gpu {
namespace {

// BufValue with errors naming "<what> <name>" (name may be nullptr): the label is built only on
// an error, so BufArgs costs no string per call.
Buf* NamedBuf(Napi::Env env, const Napi::Value& v, size_t i, size_t minBytes, const char* what, const char* name) {
  auto label = [&] { return name == nullptr ? std::string(what) : std::string(what) + " " + name; };
  if (!v.IsNumber()) {
    Throw(env, label() + ": argument " + std::to_string(i) + " must be a buffer id");
    return nullptr;
  }
  const int64_t id = v.As<Napi::Number>().Int64Value();
  Buf* b = FindBuf(id);
  if (b == nullptr) {
    Throw(env, label() + ": argument " + std::to_string(i) + " (buffer id " + std::to_string(id) +
                   ") is not a live buffer");
    return nullptr;
  }
  if (b->bytes < minBytes) {
    Throw(env, label() + ": buffer argument " + std::to_string(i) + " has " + std::to_string(b->bytes) +
                   " bytes, the kernel needs " + std::to_string(minBytes));
    return nullptr;
  }
  return b;
}

bool DifferentDevices(Napi::Env env, const char* what) {
  Throw(env, std::string(what) + ": buffers are on different devices (host and cuda); copy them to one device first");
  return false;
}

}  // namespace

// The first error of a call wins: throwing while one is pending aborts node (napi_throw fails),
// and the readers run on after a failure until their caller checks.
Napi::Value Throw(Napi::Env env, const std::string& msg) {
  if (!env.IsExceptionPending()) Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

static void NotANumber(Napi::Env env, size_t i) {
  if (!env.IsExceptionPending()) Napi::TypeError::New(env, "argument " + std::to_string(i) + " must be a number").ThrowAsJavaScriptException();
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    NotANumber(info.Env(), i);
    return 0;
  }
  return info[i].As<Napi::Number>().Int64Value();
}

double NumArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    NotANumber(info.Env(), i);
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

bool CheckCount(const Napi::CallbackInfo& info, size_t n, const char* what) {
  if (info.Length() < n) {
    Throw(info.Env(), std::string(what) + ": expected " + std::to_string(n) + " arguments, got " +
                          std::to_string(info.Length()));
    return false;
  }
  return true;
}

int64_t CountArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const int64_t n = IntArg(info, i);
  if (info.Env().IsExceptionPending()) return -1;
  if (n < 0) {
    Throw(info.Env(), std::string(what) + ": element count " + std::to_string(n) + " is negative");
    return -1;
  }
  return n;
}

Buf* BufValue(Napi::Env env, const Napi::Value& v, size_t i, size_t minBytes, const char* what) {
  return NamedBuf(env, v, i, minBytes, what, nullptr);
}

Buf* BufArg(const Napi::CallbackInfo& info, size_t i, size_t minBytes, const char* what) {
  return NamedBuf(info.Env(), info[i], i, minBytes, what, nullptr);  // info[i]: undefined past the end
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
  Buf* b = id >= 1 && id < 9007199254740992.0 && id == static_cast<double>(static_cast<int64_t>(id))
               ? FindBuf(static_cast<int64_t>(id))
               : nullptr;
  if (b == nullptr) {
    Throw(env, what + ": buffer id " + JsNumber(id) + " is not a live buffer");
    return nullptr;
  }
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
      return DifferentDevices(info.Env(), what);
    }
  }
  if (first) *where = Where::kHost;
  return true;
}

bool BufArgs(const Napi::CallbackInfo& info, const char* what, std::initializer_list<BufSpec> specs, Where* where) {
  for (const BufSpec& s : specs) {
    const Napi::Value v = info[s.arg];
    const bool none = v.IsNull() || v.IsUndefined() || (v.IsNumber() && v.As<Napi::Number>().Int64Value() == 0);
    if (s.optional && none) {
      *s.out = nullptr;
      continue;
    }
    *s.out = NamedBuf(info.Env(), v, s.arg, static_cast<size_t>(s.elems) * 4, what, s.name);
    if (*s.out == nullptr) return false;
  }
  const Buf* first = nullptr;
  for (const BufSpec& s : specs) {
    if (*s.out == nullptr) continue;
    if (first == nullptr) first = *s.out;
    if ((*s.out)->where != first->where) return DifferentDevices(info.Env(), what);
  }
  *where = first != nullptr ? first->where : Where::kHost;
  return true;
}

bool BufGroups(Napi::Env env, const char* what, const double* ids, const double* sizes, size_t count,
               std::initializer_list<const char*> names, std::vector<Buf*>* bufs, Where* where) {
  const size_t k = names.size();
  bufs->assign(k * count, nullptr);
  const Buf* first = nullptr;
  for (size_t t = 0; t < count; ++t) {
    const std::string label = std::string(what) + " tensor " + std::to_string(t);
    const int64_t n = CountOf(env, sizes[t], label);
    if (n < 0) return false;
    size_t j = 0;
    for (const char* name : names) {
      const double id = ids[k * t + j];
      Buf*& b = (*bufs)[k * t + j++];
      if (n == 0 && id == 0) continue;  // an empty tensor may have no buffer
      b = BufById(env, id, static_cast<size_t>(n) * 4, label + " " + name);
      if (b == nullptr) return false;
      if (first == nullptr) first = b;
      if (b->where != first->where) return DifferentDevices(env, what);
    }
  }
  *where = first != nullptr ? first->where : Where::kHost;
  return true;
}

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

size_t OffsetArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) return 0;
  const double v = info[i].As<Napi::Number>().DoubleValue();
  return v > 0 ? static_cast<size_t>(std::min(v, 9007199254740992.0)) : 0;
}

}  // namespace dilemma::gpu
