// gpu.attention / attentionGrad / mlp / mlpGrad: core's FusedAttention and FusedMlp ops and
// their gradients (docs/ops.md) on the `cuda` backend, one addon call each.
//
// Host buffers run the CPU engine's kernels (engine/attention.cc, engine/mlp.cc: the reference,
// tested against core's cpu kernels). CUDA buffers: the projections on cuBLAS (GemmCuda) with
// the matMul epilogue for biases, GELU with the GeluErf kernels, the attention core with
// fused.cu, column sums with the reduce kernel; temporaries in a DeviceScratch.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "cuda/ops/ops.h"
#include "cuda/runtime.h"
#include "engine/fused.h"
#if defined(DILEMMA_HAVE_CUDA)
#include "cuda/ops/fused_cuda.h"
#include "cuda/ops/gelu_cuda.h"
#include "cuda/ops/gemm.h"
#include "cuda/ops/matmul_cuda.h"
#include "cuda/ops/reduce_cuda.h"
#include "cuda/scratch.h"
#endif

namespace dilemma::gpu {
namespace {

// Reads `n` positive size arguments from `i` on; throws naming `what` otherwise.
bool Sizes(const Napi::CallbackInfo& info, size_t i, int n, const char* what, int64_t* out) {
  for (int k = 0; k < n; ++k) {
    if (i + k >= info.Length() || !info[i + k].IsNumber()) {
      Throw(info.Env(), std::string(what) + ": expected " + std::to_string(i + n) + " arguments (sizes are numbers)");
      return false;
    }
    const double v = info[i + k].As<Napi::Number>().DoubleValue();
    if (!(v >= 1 && v < 2147483648.0 && std::floor(v) == v)) {
      Throw(info.Env(), std::string(what) + ": sizes must be integers in [1, 2^31), got " + std::to_string(v));
      return false;
    }
    out[k] = static_cast<int64_t>(v);
  }
  return true;
}

// Buffer arguments [first, first + n) with the given element counts, all on one device.
bool Bufs(const Napi::CallbackInfo& info, const char* what, const char* const* names, const int64_t* counts, int n,
          Buf** out, Where* where) {
  for (int k = 0; k < n; ++k) {
    const std::string label = std::string(what) + " " + names[k];
    out[k] = BufArg(info, k, static_cast<size_t>(counts[k]) * 4, label.c_str());
    if (out[k] == nullptr) return false;
  }
  for (int k = 0; k < n; ++k) {
    if (!SameDevice(info, what, {out[0], out[k]}, where)) return false;
  }
  return true;
}

#if defined(DILEMMA_HAVE_CUDA)
DeviceScratch g_scratch;

// A scratch block of `floats` floats; retries once after emptying the allocator's cache.
float* Scratch(Napi::Env env, const char* what, int64_t floats) {
  void* p = nullptr;
  cudaError_t e = g_scratch.Get(static_cast<size_t>(floats) * 4, Stream(), &p);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    ReleaseCachedBlocks();
    e = g_scratch.Get(static_cast<size_t>(floats) * 4, Stream(), &p);
  }
  return CheckCuda(env, e, what) ? static_cast<float*>(p) : nullptr;
}

// out[j] = sum over rows of x[r, j] (the reduce kernel's deterministic column sum).
bool ColumnSumsCuda(Napi::Env env, const char* what, const float* x, int64_t rows, int64_t cols, float* out) {
  return CheckCuda(env, reduce_cuda(0, x, out, 1, rows, cols, kF32, Stream()), what);
}

bool Bias(Napi::Env env, const char* what, float* y, int64_t rows, int64_t n, const float* bias) {
  return CheckCuda(env, matmul_epilogue_cuda(y, rows, n, bias, n, ref::kActLinear, 0.f, Stream()), what);
}
#endif

// attention(x, qkvW, qkvB, projW, projB, out, qkv, probs, ctx, B, N, D, H)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "gpu.attention";
  int64_t s[4];
  if (!Sizes(info, 9, 4, what, s)) return env.Undefined();
  const int64_t B = s[0], N = s[1], D = s[2], H = s[3], R = B * N;
  if (D % H != 0) return Throw(env, std::string(what) + ": H must divide D");
  static const char* const names[] = {"x", "qkvW", "qkvB", "projW", "projB", "out", "qkv", "probs", "ctx"};
  const int64_t counts[] = {R * D, 3 * D * D, 3 * D, D * D, D, R * D, R * 3 * D, B * H * N * N, R * D};
  Buf* b[9];
  Where where;
  if (!Bufs(info, what, names, counts, 9, b, &where)) return env.Undefined();
  for (int k = 5; k < 9; ++k)
    for (int j = 0; j < 9; ++j)
      if (j != k && b[j] == b[k]) return Throw(env, std::string(what) + ": outputs must be distinct buffers, not inputs");
  if (where == Where::kHost) {
    AttentionForward(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), b[7]->f(), b[8]->f(),
                     B, N, D, H);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  const float scale = 1.f / std::sqrt(static_cast<float>(D / H));
  if (!GemmCuda(env, what, false, true, R, 3 * D, D, b[0]->f(), b[1]->f(), b[6]->f()) ||
      !Bias(env, what, b[6]->f(), R, 3 * D, b[2]->f()) ||
      !CheckCuda(env, attention_fwd_cuda(b[6]->f(), b[7]->f(), b[8]->f(), B, N, D, H, scale, Stream()), what) ||
      !GemmCuda(env, what, false, true, R, D, D, b[8]->f(), b[3]->f(), b[5]->f()))
    return env.Undefined();
  Bias(env, what, b[5]->f(), R, D, b[4]->f());
  return env.Undefined();
#else
  return Throw(env, std::string(what) + ": cuda buffers, but the addon was built without CUDA");
#endif
}

// attentionGrad(dy, x, qkvW, projW, qkv, probs, ctx, dx, dQkvW, dQkvB, dProjW, dProjB, B, N, D, H)
Napi::Value AttentionGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "gpu.attentionGrad";
  int64_t s[4];
  if (!Sizes(info, 12, 4, what, s)) return env.Undefined();
  const int64_t B = s[0], N = s[1], D = s[2], H = s[3], R = B * N;
  if (D % H != 0) return Throw(env, std::string(what) + ": H must divide D");
  static const char* const names[] = {"dy", "x", "qkvW", "projW", "qkv", "probs", "ctx", "dx", "dQkvW", "dQkvB", "dProjW", "dProjB"};
  const int64_t counts[] = {R * D, R * D, 3 * D * D, D * D, R * 3 * D, B * H * N * N, R * D, R * D, 3 * D * D, 3 * D, D * D, D};
  Buf* b[12];
  Where where;
  if (!Bufs(info, what, names, counts, 12, b, &where)) return env.Undefined();
  for (int k = 7; k < 12; ++k)
    for (int j = 0; j < 12; ++j)
      if (j != k && b[j] == b[k]) return Throw(env, std::string(what) + ": outputs must be distinct buffers, not inputs");
  if (where == Where::kHost) {
    AttentionBackward(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), b[7]->f(), b[8]->f(),
                      b[9]->f(), b[10]->f(), b[11]->f(), B, N, D, H);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  const float scale = 1.f / std::sqrt(static_cast<float>(D / H));
  float* scratch = Scratch(env, what, R * D + R * 3 * D + B * H * N * N);
  if (scratch == nullptr) return env.Undefined();
  float* dCtx = scratch;
  float* dqkv = dCtx + R * D;
  float* dS = dqkv + R * 3 * D;
  const float *dy = b[0]->f(), *x = b[1]->f(), *qkvW = b[2]->f(), *projW = b[3]->f();
  if (!GemmCuda(env, what, true, false, D, D, R, dy, b[6]->f(), b[10]->f()) ||  // dProjW = dy^T ctx
      !ColumnSumsCuda(env, what, dy, R, D, b[11]->f()) ||
      !GemmCuda(env, what, false, false, R, D, D, dy, projW, dCtx) ||  // dCtx = dy projW
      !CheckCuda(env, attention_bwd_cuda(b[4]->f(), b[5]->f(), dCtx, dS, dqkv, B, N, D, H, scale, Stream()), what) ||
      !GemmCuda(env, what, true, false, 3 * D, D, R, dqkv, x, b[8]->f()) ||  // dQkvW = dqkv^T x
      !ColumnSumsCuda(env, what, dqkv, R, 3 * D, b[9]->f()))
    return env.Undefined();
  GemmCuda(env, what, false, false, R, D, 3 * D, dqkv, qkvW, b[7]->f());  // dx = dqkv qkvW
  return env.Undefined();
#else
  return Throw(env, std::string(what) + ": cuda buffers, but the addon was built without CUDA");
#endif
}

// mlp(x, fc1W, fc1B, fc2W, fc2B, out, pre, act, rows, D, Hd)
Napi::Value Mlp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "gpu.mlp";
  int64_t s[3];
  if (!Sizes(info, 8, 3, what, s)) return env.Undefined();
  const int64_t R = s[0], D = s[1], Hd = s[2];
  static const char* const names[] = {"x", "fc1W", "fc1B", "fc2W", "fc2B", "out", "pre", "act"};
  const int64_t counts[] = {R * D, Hd * D, Hd, D * Hd, D, R * D, R * Hd, R * Hd};
  Buf* b[8];
  Where where;
  if (!Bufs(info, what, names, counts, 8, b, &where)) return env.Undefined();
  for (int k = 5; k < 8; ++k)
    for (int j = 0; j < 8; ++j)
      if (j != k && b[j] == b[k]) return Throw(env, std::string(what) + ": outputs must be distinct buffers, not inputs");
  if (where == Where::kHost) {
    MlpForward(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), b[7]->f(), R, D, Hd);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  if (!GemmCuda(env, what, false, true, R, Hd, D, b[0]->f(), b[1]->f(), b[6]->f()) ||
      !Bias(env, what, b[6]->f(), R, Hd, b[2]->f()) ||
      !CheckCuda(env, GeluErfCuda(b[6]->f(), b[7]->f(), R * Hd, Stream()), what) ||
      !GemmCuda(env, what, false, true, R, D, Hd, b[7]->f(), b[3]->f(), b[5]->f()))
    return env.Undefined();
  Bias(env, what, b[5]->f(), R, D, b[4]->f());
  return env.Undefined();
#else
  return Throw(env, std::string(what) + ": cuda buffers, but the addon was built without CUDA");
#endif
}

// mlpGrad(dy, x, fc1W, fc2W, pre, act, dx, dFc1W, dFc1B, dFc2W, dFc2B, rows, D, Hd)
Napi::Value MlpGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "gpu.mlpGrad";
  int64_t s[3];
  if (!Sizes(info, 11, 3, what, s)) return env.Undefined();
  const int64_t R = s[0], D = s[1], Hd = s[2];
  static const char* const names[] = {"dy", "x", "fc1W", "fc2W", "pre", "act", "dx", "dFc1W", "dFc1B", "dFc2W", "dFc2B"};
  const int64_t counts[] = {R * D, R * D, Hd * D, D * Hd, R * Hd, R * Hd, R * D, Hd * D, Hd, D * Hd, D};
  Buf* b[11];
  Where where;
  if (!Bufs(info, what, names, counts, 11, b, &where)) return env.Undefined();
  for (int k = 6; k < 11; ++k)
    for (int j = 0; j < 11; ++j)
      if (j != k && b[j] == b[k]) return Throw(env, std::string(what) + ": outputs must be distinct buffers, not inputs");
  if (where == Where::kHost) {
    MlpBackward(b[0]->f(), b[1]->f(), b[2]->f(), b[3]->f(), b[4]->f(), b[5]->f(), b[6]->f(), b[7]->f(), b[8]->f(),
                b[9]->f(), b[10]->f(), R, D, Hd);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  float* scratch = Scratch(env, what, 2 * R * Hd);
  if (scratch == nullptr) return env.Undefined();
  float* dAct = scratch;
  float* dPre = scratch + R * Hd;
  const float *dy = b[0]->f(), *x = b[1]->f();
  if (!GemmCuda(env, what, false, false, R, Hd, D, dy, b[3]->f(), dAct) ||  // dAct = dy fc2W
      !CheckCuda(env, GeluErfGradCuda(dAct, b[4]->f(), dPre, R * Hd, Stream()), what) ||
      !GemmCuda(env, what, true, false, D, Hd, R, dy, b[5]->f(), b[9]->f()) ||     // dFc2W = dy^T act
      !GemmCuda(env, what, true, false, Hd, D, R, dPre, x, b[7]->f()) ||          // dFc1W = dPre^T x
      !GemmCuda(env, what, false, false, R, D, Hd, dPre, b[2]->f(), b[6]->f()) ||  // dx = dPre fc1W
      !ColumnSumsCuda(env, what, dPre, R, Hd, b[8]->f()))
    return env.Undefined();
  ColumnSumsCuda(env, what, dy, R, D, b[10]->f());
  return env.Undefined();
#else
  return Throw(env, std::string(what) + ": cuda buffers, but the addon was built without CUDA");
#endif
}

}  // namespace

void RegisterFused(Napi::Env env, Napi::Object gpu) {
  gpu.Set("attention", Napi::Function::New(env, Attention, "attention"));
  gpu.Set("attentionGrad", Napi::Function::New(env, AttentionGrad, "attentionGrad"));
  gpu.Set("mlp", Napi::Function::New(env, Mlp, "mlp"));
  gpu.Set("mlpGrad", Napi::Function::New(env, MlpGrad, "mlpGrad"));
}

}  // namespace dilemma::gpu
