// FusedAttention / FusedAttentionGrad (docs/ops.md) on the CPU engine. The projections are
// row-blocked BLAS calls with the bias added while a block is in cache; the attention core runs
// per (batch, head) on the pool: for the short sequences of DILEMMA (17-65 tokens) the scores
// (N x N) and the head's slices of qkv stay in L1/L2 between the two products and the softmax.
// The backward reuses the forward's qkv, probs and ctx (nothing is recomputed).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/fused.h"
#include "engine/gemm_blocked.h"
#include "engine/kernels.h"
#include "engine/napi_util.h"
#include "engine/sgemm.h"
#include "engine/threadpool.h"

namespace dilemma {
namespace {

// y[r] = x[r] W^T + bias for x [R, in], W [out, in]; one task per 64-row block, bias added in it.
void Linear(const float* x, const float* w, const float* bias, float* y, int64_t R, int64_t in, int64_t out) {
  const int64_t blocks = (R + kGemmRowBlock - 1) / kGemmRowBlock;
  ParallelFor(blocks, 1, [&](int64_t b0, int64_t b1) {
    AlignedFloats padA = AllocAligned(kGemmRowBlock * in), padC = AllocAligned(kGemmRowBlock * out);
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t r0 = blk * kGemmRowBlock, rows = std::min(kGemmRowBlock, R - r0);
      float* yb = y + r0 * out;
      SgemmRowBlock(false, true, rows, out, in, x + r0 * in, in, w, in, yb, out, padA.get(), padC.get());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out; ++j) yb[r * out + j] += bias[j];
    }
  });
}

// Row softmax of s [n, n] scaled by `scale`, in place (max-subtracted; a NaN row stays NaN).
void SoftmaxRows(float* s, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) {
    float* r = s + i * n;
    float m = -INFINITY;
    bool nan = false;
    for (int64_t j = 0; j < n; ++j) {
      r[j] *= scale;
      nan |= std::isnan(r[j]);
      m = std::max(m, r[j]);
    }
    if (nan) m = NAN;
    float sum = 0.f;
    for (int64_t j = 0; j < n; ++j) sum += r[j] = std::exp(r[j] - m);
    for (int64_t j = 0; j < n; ++j) r[j] /= sum;
  }
}

// One head's operands and results, packed ([N, hd] / [N, N] row-major) in 64-byte aligned
// scratch. BLAS may pick kernels and summation orders by operand strides and alignment, so every
// head is multiplied from the same layout whatever its offset in qkv: the results then depend
// neither on the batch index (batch invariance) nor on where the caller's buffers happen to lie
// (the training and inference paths allocate qkv differently).
struct HeadScratch {
  AlignedFloats buf;
  float *q, *k, *v, *o, *p, *dS, *dq, *dk, *dv;
  HeadScratch(int64_t N, int64_t hd) : buf(AllocAligned(7 * Pad(N * hd) + 2 * Pad(N * N))) {
    float* f = buf.get();
    for (float** x : {&q, &k, &v, &o, &dq, &dk, &dv}) *x = f, f += Pad(N * hd);
    for (float** x : {&p, &dS}) *x = f, f += Pad(N * N);
  }
  // Keeps every part 64-byte aligned.
  static int64_t Pad(int64_t n) { return (n + 15) / 16 * 16; }
};

// rows x cols block at src (row stride ld) -> packed dst; and back.
void GatherHead(const float* src, int64_t ld, int64_t rows, int64_t cols, float* dst) {
  for (int64_t r = 0; r < rows; ++r) std::copy(src + r * ld, src + r * ld + cols, dst + r * cols);
}
void ScatterHead(const float* src, int64_t rows, int64_t cols, float* dst, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) std::copy(src + r * cols, src + (r + 1) * cols, dst + r * ld);
}

}  // namespace

void AttentionForward(const float* x, const float* qkvW, const float* qkvB, const float* projW, const float* projB,
                      float* out, float* qkv, float* probs, float* ctx, int64_t B, int64_t N, int64_t D, int64_t H) {
  const int64_t R = B * N, D3 = 3 * D, hd = D / H;
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  Linear(x, qkvW, qkvB, qkv, R, D, D3);
  ParallelFor(B * H, 1, [&](int64_t t0, int64_t t1) {
    HeadScratch s(N, hd);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / H, h = t % H;
      const float* q = qkv + b * N * D3 + h * hd;
      GatherHead(q, D3, N, hd, s.q);
      GatherHead(q + D, D3, N, hd, s.k);
      GatherHead(q + 2 * D, D3, N, hd, s.v);
      Sgemm(false, true, N, N, hd, s.q, hd, s.k, hd, 0.f, s.p, N);  // S = Q K^T
      SoftmaxRows(s.p, N, scale);
      if (probs != nullptr) std::copy(s.p, s.p + N * N, probs + t * N * N);
      Sgemm(false, false, N, hd, N, s.p, N, s.v, hd, 0.f, s.o, hd);  // P V
      ScatterHead(s.o, N, hd, ctx + b * N * D + h * hd, D);
    }
  });
  Linear(ctx, projW, projB, out, R, D, D);
}

void AttentionBackward(const float* dy, const float* x, const float* qkvW, const float* projW, const float* qkv,
                       const float* probs, const float* ctx, float* dx, float* dQkvW, float* dQkvB, float* dProjW,
                       float* dProjB, int64_t B, int64_t N, int64_t D, int64_t H) {
  const int64_t R = B * N, D3 = 3 * D, hd = D / H;
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  std::unique_ptr<float[]> dCtx(new float[R * D]), dqkv(new float[R * D3]);
  BlockedSgemm(true, false, D, D, R, dy, D, ctx, D, dProjW, D, true);  // dProjW = dy^T ctx
  ColumnSums(dy, R, D, dProjB);
  BlockedSgemm(false, false, R, D, D, dy, D, projW, D, dCtx.get(), D);  // dCtx = dy projW
  ParallelFor(B * H, 1, [&](int64_t t0, int64_t t1) {
    HeadScratch s(N, hd);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / H, h = t % H;
      const float* q = qkv + b * N * D3 + h * hd;
      float* dq = dqkv.get() + b * N * D3 + h * hd;
      GatherHead(q, D3, N, hd, s.q);
      GatherHead(q + D, D3, N, hd, s.k);
      GatherHead(q + 2 * D, D3, N, hd, s.v);
      GatherHead(dCtx.get() + b * N * D + h * hd, D, N, hd, s.o);
      std::copy(probs + t * N * N, probs + (t + 1) * N * N, s.p);
      Sgemm(false, true, N, N, hd, s.o, hd, s.v, hd, 0.f, s.dS, N);  // dP = dCtx V^T
      Sgemm(true, false, N, hd, N, s.p, N, s.o, hd, 0.f, s.dv, hd);  // dV = P^T dCtx
      for (int64_t i = 0; i < N; ++i) {                              // softmax backward
        float* r = s.dS + i * N;
        const float* pr = s.p + i * N;
        float dot = 0.f;
        for (int64_t j = 0; j < N; ++j) dot += r[j] * pr[j];
        for (int64_t j = 0; j < N; ++j) r[j] = pr[j] * (r[j] - dot) * scale;
      }
      Sgemm(false, false, N, hd, N, s.dS, N, s.k, hd, 0.f, s.dq, hd);  // dQ = dS K
      Sgemm(true, false, N, hd, N, s.dS, N, s.q, hd, 0.f, s.dk, hd);   // dK = dS^T Q
      ScatterHead(s.dq, N, hd, dq, D3);
      ScatterHead(s.dk, N, hd, dq + D, D3);
      ScatterHead(s.dv, N, hd, dq + 2 * D, D3);
    }
  });
  BlockedSgemm(true, false, D3, D, R, dqkv.get(), D3, x, D, dQkvW, D, true);  // dQkvW = dqkv^T x
  ColumnSums(dqkv.get(), R, D3, dQkvB);
  BlockedSgemm(false, false, R, D, D3, dqkv.get(), D3, qkvW, D, dx, D);  // dx = dqkv qkvW
}

namespace {

// Shape arguments (B, N, D, H) at `i`: positive, H divides D.
bool Dims(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t* B, int64_t* N, int64_t* D, int64_t* H) {
  *B = IntArg(info, i);
  *N = IntArg(info, i + 1);
  *D = IntArg(info, i + 2);
  *H = IntArg(info, i + 3);
  if (*B < 1 || *N < 1 || *D < 1 || *H < 1 || *D % *H != 0) {
    Napi::RangeError::New(info.Env(), std::string(what) + ": B, N, D, H must be positive with H dividing D")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// attention(x, qkvW, qkvB, projW, projB, out, qkv, probs, ctx, B, N, D, H)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t B, N, D, H;
  if (!Dims(info, 9, "attention", &B, &N, &D, &H)) return env.Undefined();
  const int64_t R = B * N;
  const float* x = F32Arg(info, 0, R * D, "attention x");
  if (!x) return env.Undefined();
  const float* qkvW = F32Arg(info, 1, 3 * D * D, "attention qkvW");
  if (!qkvW) return env.Undefined();
  const float* qkvB = F32Arg(info, 2, 3 * D, "attention qkvB");
  if (!qkvB) return env.Undefined();
  const float* projW = F32Arg(info, 3, D * D, "attention projW");
  if (!projW) return env.Undefined();
  const float* projB = F32Arg(info, 4, D, "attention projB");
  if (!projB) return env.Undefined();
  float* out = F32Arg(info, 5, R * D, "attention out");
  if (!out) return env.Undefined();
  // qkv, probs, ctx: all three, or all null (inference: temporaries here, no probs at all).
  float* qkv = OptF32Arg(info, 6, R * 3 * D, "attention qkv");
  float* probs = OptF32Arg(info, 7, B * H * N * N, "attention probs");
  float* ctx = OptF32Arg(info, 8, R * D, "attention ctx");
  if (env.IsExceptionPending()) return env.Undefined();
  if ((qkv == nullptr) != (probs == nullptr) || (qkv == nullptr) != (ctx == nullptr)) {
    Napi::TypeError::New(env, "attention: qkv, probs and ctx must all be Float32Arrays or all null")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::unique_ptr<float[]> tmp;
  if (qkv == nullptr) {
    tmp.reset(new float[R * 4 * D]);
    qkv = tmp.get();
    ctx = tmp.get() + R * 3 * D;
  }
  AttentionForward(x, qkvW, qkvB, projW, projB, out, qkv, probs, ctx, B, N, D, H);
  return env.Undefined();
}

// attentionGrad(dy, x, qkvW, projW, qkv, probs, ctx, dx, dQkvW, dQkvB, dProjW, dProjB, B, N, D, H)
Napi::Value AttentionGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t B, N, D, H;
  if (!Dims(info, 12, "attentionGrad", &B, &N, &D, &H)) return env.Undefined();
  const int64_t R = B * N;
  const float* dy = F32Arg(info, 0, R * D, "attentionGrad dy");
  if (!dy) return env.Undefined();
  const float* x = F32Arg(info, 1, R * D, "attentionGrad x");
  if (!x) return env.Undefined();
  const float* qkvW = F32Arg(info, 2, 3 * D * D, "attentionGrad qkvW");
  if (!qkvW) return env.Undefined();
  const float* projW = F32Arg(info, 3, D * D, "attentionGrad projW");
  if (!projW) return env.Undefined();
  const float* qkv = F32Arg(info, 4, R * 3 * D, "attentionGrad qkv");
  if (!qkv) return env.Undefined();
  const float* probs = F32Arg(info, 5, B * H * N * N, "attentionGrad probs");
  if (!probs) return env.Undefined();
  const float* ctx = F32Arg(info, 6, R * D, "attentionGrad ctx");
  if (!ctx) return env.Undefined();
  float* dx = F32Arg(info, 7, R * D, "attentionGrad dx");
  if (!dx) return env.Undefined();
  float* dQkvW = F32Arg(info, 8, 3 * D * D, "attentionGrad dQkvW");
  if (!dQkvW) return env.Undefined();
  float* dQkvB = F32Arg(info, 9, 3 * D, "attentionGrad dQkvB");
  if (!dQkvB) return env.Undefined();
  float* dProjW = F32Arg(info, 10, D * D, "attentionGrad dProjW");
  if (!dProjW) return env.Undefined();
  float* dProjB = F32Arg(info, 11, D, "attentionGrad dProjB");
  if (!dProjB) return env.Undefined();
  AttentionBackward(dy, x, qkvW, projW, qkv, probs, ctx, dx, dQkvW, dQkvB, dProjW, dProjB, B, N, D, H);
  return env.Undefined();
}

}  // namespace

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("attentionGrad", Napi::Function::New(env, AttentionGrad, "attentionGrad"));
}

}  // namespace dilemma
