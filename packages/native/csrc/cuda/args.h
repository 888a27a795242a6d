// Argument parsing for the `cuda` backend's N-API functions (runtime.cc and ops/*.cc; argument
// order: src/cuda/addon.ts). Every reader throws a JS error and returns a failure value (nullptr,
// false, -1) that tells the caller to return at once.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "cuda/buffers.h"

namespace dilemma::gpu {

/** Throws a JS Error with `msg`; returns undefined for `return Throw(...)`. */
Napi::Value Throw(Napi::Env env, const std::string& msg);

/** int64 / double / bool / number[] arguments (number[] -> up to kMaxDims entries). */
constexpr int kMaxDims = 8;
int64_t IntArg(const Napi::CallbackInfo& info, size_t i);
double NumArg(const Napi::CallbackInfo& info, size_t i);
bool BoolArg(const Napi::CallbackInfo& info, size_t i);
/** Reads a number[] of length <= kMaxDims into out[]; returns its length, or -1 after throwing. */
int DimsArg(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what);

/** False after throwing when there are fewer than `n` arguments. */
bool CheckCount(const Napi::CallbackInfo& info, size_t n, const char* what);
/** A non-negative element count (argument i), or -1 after throwing. */
int64_t CountArg(const Napi::CallbackInfo& info, size_t i, const char* what);

/**
 * Buffer id argument `i` with at least `minBytes` bytes. On a bad id / too small a buffer it
 * throws a JS error naming `what` and returns nullptr (the caller returns at once).
 */
Buf* BufArg(const Napi::CallbackInfo& info, size_t i, size_t minBytes, const char* what);
/** Like BufArg, but 0 / null / undefined give nullptr without an error. */
Buf* OptBufArg(const Napi::CallbackInfo& info, size_t i, size_t minBytes, const char* what);
/** BufArg for a buffer id that is not an argument itself (an array element); errors name it argument `i`. */
Buf* BufValue(Napi::Env env, const Napi::Value& v, size_t i, size_t minBytes, const char* what);

/**
 * Multi-tensor calls (adamWMulti, emaMulti) take their buffer ids and element counts as
 * Float64Arrays. F64ArrayArg returns argument i's data and sets *len, or throws naming `what`
 * and returns nullptr when it is not a Float64Array.
 */
const double* F64ArrayArg(const Napi::CallbackInfo& info, size_t i, size_t* len, const char* what);
/**
 * The buffer with id `id` (an element of such an array) and at least `minBytes` bytes; otherwise
 * throws a JS error starting with `what` and returns nullptr.
 */
Buf* BufById(Napi::Env env, double id, size_t minBytes, const std::string& what);
/** Element count `n` from such an array: a non-negative integer, else throws naming `what` and returns -1. */
int64_t CountOf(Napi::Env env, double n, const std::string& what);
/**
 * The buffers of a multi-tensor call: `ids` holds names.size() ids per tensor (in the order of
 * `names`), `sizes` the element count of each of the `count` tensors. Checks every id, size and
 * device before the caller writes anything (an empty tensor may pass id 0: its entry stays
 * nullptr). Errors name "<what> tensor <t> <name>". False after throwing.
 */
bool BufGroups(Napi::Env env, const char* what, const double* ids, const double* sizes, size_t count,
               std::initializer_list<const char*> names, std::vector<Buf*>* bufs, Where* where);

/**
 * True when every non-null buffer is on the same device; otherwise throws a JS error naming
 * `what` and returns false. `*where` receives that device.
 */
bool SameDevice(const Napi::CallbackInfo& info, const char* what, std::initializer_list<const Buf*> bufs,
                Where* where);

/** One buffer argument of BufArgs: *out = argument `arg`, of at least `elems` 4-byte elements. */
struct BufSpec {
  Buf** out;
  size_t arg;
  const char* name;  // errors name "<what> <name>"
  int64_t elems;
  bool optional = false;  // 0 / null / undefined give *out = nullptr (as OptBufArg)
};
/**
 * The buffer arguments an op starts with: BufArg for each spec in order, then SameDevice over
 * them all. False after throwing.
 */
bool BufArgs(const Napi::CallbackInfo& info, const char* what, std::initializer_list<BufSpec> specs, Where* where);

/** (ArrayBufferView argument i) -> bytes pointer and length, or nullptr after throwing. */
uint8_t* ViewArg(const Napi::CallbackInfo& info, size_t i, size_t* len, const char* what);
/**
 * Byte offsets / counts from JS: non-numbers and NaN read as 0; values are clamped to 2^53 so the
 * double -> size_t cast is defined and `off + len` cannot wrap around past the BufArg size check.
 */
size_t OffsetArg(const Napi::CallbackInfo& info, size_t i);

}  // namespace dilemma::gpu
