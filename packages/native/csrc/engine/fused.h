// FusedAttention / FusedMlp on host memory (docs/ops.md): the native engine's kernels
// (attention.cc, mlp.cc), also the host reference of the cuda backend's fused ops
// (cuda/ops/fused.cc). Projections on BLAS in fixed 64-row blocks (gemm_blocked.h); the
// attention core per (batch, head) with its N x N scores in cache; all on the engine's pool.
// Must be called outside ParallelFor tasks.
#pragma once
#include <cstdint>

namespace dilemma {

/**
 * x [B, N, D], H heads -> out [B, N, D], qkv [B, N, 3D], probs [B, H, N, N], ctx [B, N, D].
 * probs may be null (inference: each head's scores stay in a per-thread scratch).
 */
void AttentionForward(const float* x, const float* qkvW, const float* qkvB, const float* projW, const float* projB,
                      float* out, float* qkv, float* probs, float* ctx, int64_t B, int64_t N, int64_t D, int64_t H);

/** Gradient from the saved qkv/probs/ctx -> dx [B, N, D], dQkvW [3D, D], dQkvB [3D], dProjW [D, D], dProjB [D]. */
void AttentionBackward(const float* dy, const float* x, const float* qkvW, const float* projW, const float* qkv,
                       const float* probs, const float* ctx, float* dx, float* dQkvW, float* dQkvB, float* dProjW,
                       float* dProjB, int64_t B, int64_t N, int64_t D, int64_t H);

/**
 * x [rows, D] -> out [rows, D], pre and act [rows, Hd] (act = GELU_erf(pre)). pre and act may
 * both be null (inference: each row block's hidden activations stay in a per-thread scratch).
 */
void MlpForward(const float* x, const float* fc1W, const float* fc1B, const float* fc2W, const float* fc2B, float* out,
                float* pre, float* act, int64_t rows, int64_t D, int64_t Hd);

/** Gradient from the saved pre/act -> dx [rows, D], dFc1W [Hd, D], dFc1B [Hd], dFc2W [D, Hd], dFc2B [D]. */
void MlpBackward(const float* dy, const float* x, const float* fc1W, const float* fc2W, const float* pre,
                 const float* act, float* dx, float* dFc1W, float* dFc1B, float* dFc2W, float* dFc2B, int64_t rows,
                 int64_t D, int64_t Hd);

}  // namespace dilemma
