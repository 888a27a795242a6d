// gpu.attention / attentionGrad / mlp / mlpGrad: core's FusedAttention and FusedMlp ops and
// their gradients (docs/ops.md) on the `cuda` backend, one addon call each.
//
// Host buffers run the CPU engine's kernels (engine/attention.cc, engine/mlp.cc: the reference,
// tested against core's cpu kernels). CUDA buffers: the projections on cuBLAS (GemmCuda) with
// the matMul epilogue for biases, GELU with the GeluErf kernels, the attention core with
// fused.cu, column sums with the reduce kernel; temporaries in a DeviceScratch.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
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

// Outputs are written while the inputs (and other outputs) are still read: each needs a buffer of its own.
bool DistinctOutputs(Napi::Env env, const char* what, std::initializer_list<const Buf*> ins,
                     std::initializer_list<const Buf*> outs) {
  for (auto o = outs.begin(); o != outs.end(); ++o) {
    if (std::find(ins.begin(), ins.end(), *o) != ins.end() || std::find(o + 1, outs.end(), *o) != outs.end()) {
      Throw(env, std::string(what) + ": outputs must be distinct buffers, not inputs");
      return false;
    }
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
  Buf *x, *qkvW, *qkvB, *projW, *projB, *out, *qkv, *probs, *ctx;
  Where where;
  if (!BufArgs(info, what,
               {{&x, 0, "x", R * D}, {&qkvW, 1, "qkvW", 3 * D * D}, {&qkvB, 2, "qkvB", 3 * D},
                {&projW, 3, "projW", D * D}, {&projB, 4, "projB", D}, {&out, 5, "out", R * D},
                {&qkv, 6, "qkv", R * 3 * D}, {&probs, 7, "probs", B * H * N * N}, {&ctx, 8, "ctx", R * D}},
               &where) ||
      !DistinctOutputs(env, what, {x, qkvW, qkvB, projW, projB}, {out, qkv, probs, ctx}))
    return env.Undefined();
  if (where == Where::kHost) {
    AttentionForward(x->f(), qkvW->f(), qkvB->f(), projW->f(), projB->f(), out->f(), qkv->f(), probs->f(), ctx->f(),
                     B, N, D, H);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  const float scale = 1.f / std::sqrt(static_cast<float>(D / H));
  if (!GemmCuda(env, what, false, true, R, 3 * D, D, x->f(), qkvW->f(), qkv->f()) ||
      !Bias(env, what, qkv->f(), R, 3 * D, qkvB->f()) ||
      !CheckCuda(env, attention_fwd_cuda(qkv->f(), probs->f(), ctx->f(), B, N, D, H, scale, Stream()), what) ||
      !GemmCuda(env, what, false, true, R, D, D, ctx->f(), projW->f(), out->f()))
    return env.Undefined();
  Bias(env, what, out->f(), R, D, projB->f());
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
  Buf *dy, *x, *qkvW, *projW, *qkv, *probs, *ctx, *dx, *dQkvW, *dQkvB, *dProjW, *dProjB;
  Where where;
  if (!BufArgs(info, what,
               {{&dy, 0, "dy", R * D}, {&x, 1, "x", R * D}, {&qkvW, 2, "qkvW", 3 * D * D}, {&projW, 3, "projW", D * D},
                {&qkv, 4, "qkv", R * 3 * D}, {&probs, 5, "probs", B * H * N * N}, {&ctx, 6, "ctx", R * D},
                {&dx, 7, "dx", R * D}, {&dQkvW, 8, "dQkvW", 3 * D * D}, {&dQkvB, 9, "dQkvB", 3 * D},
                {&dProjW, 10, "dProjW", D * D}, {&dProjB, 11, "dProjB", D}},
               &where) ||
      !DistinctOutputs(env, what, {dy, x, qkvW, projW, qkv, probs, ctx}, {dx, dQkvW, dQkvB, dProjW, dProjB}))
    return env.Undefined();
  if (where == Where::kHost) {
    AttentionBackward(dy->f(), x->f(), qkvW->f(), projW->f(), qkv->f(), probs->f(), ctx->f(), dx->f(), dQkvW->f(),
                      dQkvB->f(), dProjW->f(), dProjB->f(), B, N, D, H);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  const float scale = 1.f / std::sqrt(static_cast<float>(D / H));
  float* scratch = Scratch(env, what, R * D + R * 3 * D + B * H * N * N);
  if (scratch == nullptr) return env.Undefined();
  float* dCtx = scratch;
  float* dqkv = dCtx + R * D;
  float* dS = dqkv + R * 3 * D;
  if (!GemmCuda(env, what, true, false, D, D, R, dy->f(), ctx->f(), dProjW->f()) ||  // dProjW = dy^T ctx
      !ColumnSumsCuda(env, what, dy->f(), R, D, dProjB->f()) ||
      !GemmCuda(env, what, false, false, R, D, D, dy->f(), projW->f(), dCtx) ||  // dCtx = dy projW
      !CheckCuda(env, attention_bwd_cuda(qkv->f(), probs->f(), dCtx, dS, dqkv, B, N, D, H, scale, Stream()), what) ||
      !GemmCuda(env, what, true, false, 3 * D, D, R, dqkv, x->f(), dQkvW->f()) ||  // dQkvW = dqkv^T x
      !ColumnSumsCuda(env, what, dqkv, R, 3 * D, dQkvB->f()))
    return env.Undefined();
  GemmCuda(env, what, false, false, R, D, 3 * D, dqkv, qkvW->f(), dx->f());  // dx = dqkv qkvW
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
  Buf *x, *fc1W, *fc1B, *fc2W, *fc2B, *out, *pre, *act;
  Where where;
  if (!BufArgs(info, what,
               {{&x, 0, "x", R * D}, {&fc1W, 1, "fc1W", Hd * D}, {&fc1B, 2, "fc1B", Hd}, {&fc2W, 3, "fc2W", D * Hd},
                {&fc2B, 4, "fc2B", D}, {&out, 5, "out", R * D}, {&pre, 6, "pre", R * Hd}, {&act, 7, "act", R * Hd}},
               &where) ||
      !DistinctOutputs(env, what, {x, fc1W, fc1B, fc2W, fc2B}, {out, pre, act}))
    return env.Undefined();
  if (where == Where::kHost) {
    MlpForward(x->f(), fc1W->f(), fc1B->f(), fc2W->f(), fc2B->f(), out->f(), pre->f(), act->f(), R, D, Hd);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  if (!GemmCuda(env, what, false, true, R, Hd, D, x->f(), fc1W->f(), pre->f()) ||
      !Bias(env, what, pre->f(), R, Hd, fc1B->f()) ||
      !CheckCuda(env, GeluErfCuda(pre->f(), act->f(), R * Hd, Stream()), what) ||
      !GemmCuda(env, what, false, true, R, D, Hd, act->f(), fc2W->f(), out->f()))
    return env.Undefined();
  Bias(env, what, out->f(), R, D, fc2B->f());
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
  Buf *dy, *x, *fc1W, *fc2W, *pre, *act, *dx, *dFc1W, *dFc1B, *dFc2W, *dFc2B;
  Where where;
  if (!BufArgs(info, what,
               {{&dy, 0, "dy", R * D}, {&x, 1, "x", R * D}, {&fc1W, 2, "fc1W", Hd * D}, {&fc2W, 3, "fc2W", D * Hd},
                {&pre, 4, "pre", R * Hd}, {&act, 5, "act", R * Hd}, {&dx, 6, "dx", R * D}, {&dFc1W, 7, "dFc1W", Hd * D},
                {&dFc1B, 8, "dFc1B", Hd}, {&dFc2W, 9, "dFc2W", D * Hd}, {&dFc2B, 10, "dFc2B", D}},
               &where) ||
      !DistinctOutputs(env, what, {dy, x, fc1W, fc2W, pre, act}, {dx, dFc1W, dFc1B, dFc2W, dFc2B}))
    return env.Undefined();
  if (where == Where::kHost) {
    MlpBackward(dy->f(), x->f(), fc1W->f(), fc2W->f(), pre->f(), act->f(), dx->f(), dFc1W->f(), dFc1B->f(), dFc2W->f(),
                dFc2B->f(), R, D, Hd);
    return env.Undefined();
  }
#if defined(DILEMMA_HAVE_CUDA)
  float* scratch = Scratch(env, what, 2 * R * Hd);
  if (scratch == nullptr) return env.Undefined();
  float* dAct = scratch;
  float* dPre = scratch + R * Hd;
  if (!GemmCuda(env, what, false, false, R, Hd, D, dy->f(), fc2W->f(), dAct) ||  // dAct = dy fc2W
      !CheckCuda(env, GeluErfGradCuda(dAct, pre->f(), dPre, R * Hd, Stream()), what) ||
      !GemmCuda(env, what, true, false, D, Hd, R, dy->f(), act->f(), dFc2W->f()) ||   // dFc2W = dy^T act
      !GemmCuda(env, what, true, false, Hd, D, R, dPre, x->f(), dFc1W->f()) ||        // dFc1W = dPre^T x
      !GemmCuda(env, what, false, false, R, D, Hd, dPre, fc1W->f(), dx->f()) ||       // dx = dPre fc1W
      !ColumnSumsCuda(env, what, dPre, R, Hd, dFc1B->f()))
    return env.Undefined();
  ColumnSumsCuda(env, what, dy->f(), R, D, dFc2B->f());
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
