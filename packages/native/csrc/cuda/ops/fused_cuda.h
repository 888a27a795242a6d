// Launchers of the attention-core kernels of FusedAttention (fused.cu) on device pointers; the
// projections run on cuBLAS (fused.cc). Host reference: engine/attention.cc (AttentionForward /
// AttentionBackward). Asynchronous on `stream`; they return the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/**
 * Per (b, h, query row i): probs[b,h,i,:] = softmax(scale * q_i K^T) and ctx[b,i,h*hd:] = probs V,
 * with q/k/v the head slices of qkv [B, N, 3D] (timm's [3][H][hd] split). One warp per row; any N.
 */
cudaError_t attention_fwd_cuda(const float* qkv, float* probs, float* ctx, int64_t B, int64_t N, int64_t D, int64_t H,
                               float scale, cudaStream_t stream);

/**
 * Backward of the core given dCtx [B, N, D]: dS = P * (dCtx V^T - rowsum) * scale into the
 * scratch dS [B, H, N, N], then dQ = dS K, dK = dS^T Q, dV = P^T dCtx into dqkv [B, N, 3D]
 * (every element written once, no atomics: deterministic).
 */
cudaError_t attention_bwd_cuda(const float* qkv, const float* probs, const float* dCtx, float* dS, float* dqkv,
                               int64_t B, int64_t N, int64_t D, int64_t H, float scale, cudaStream_t stream);

}  // namespace dilemma::gpu
