// DILEMMA embedding op on the CPU (contract: docs/ops.md, DilemmaEmbed / DilemmaEmbedGrad).
// These are also the references the CUDA kernels are validated against (embed_cuda.cu).
#pragma once
#include <cstdint>
#include <string>

namespace dilemma {

/**
 * out[b,i,:] = tokens[b, realPos[b,i], :] + pos[inputPos[b,i], :].
 * tokens [B,L,D], pos [L,D], realPos/inputPos [B,K], out [B,K,D] (row-major float32 / int32).
 * Returns "" on success, else an error naming the bad index; nothing is written on error.
 */
std::string embed_fwd_cpu(const float* tokens, const float* pos, const int32_t* realPos, const int32_t* inputPos,
                          int64_t B, int64_t L, int64_t K, int64_t D, float* out);

/**
 * dTokens [B,L,D] = zeros with dTokens[b, realPos[b,i]] = dy[b,i] (rows distinct; duplicates are
 * summed), dPos [L,D] = sum over (b,i) of dy[b,i] into row inputPos[b,i]. dPos is accumulated in
 * (b, i) order for every element, so results are deterministic and independent of threading.
 */
std::string embed_bwd_cpu(const float* dy, const int32_t* realPos, const int32_t* inputPos, int64_t B, int64_t L,
                          int64_t K, int64_t D, float* dTokens, float* dPos);

/** Bounds check shared by both ops: "" or "<op>: realPos[b,i]=v out of [0, L)". */
std::string check_positions(const char* op, const int32_t* realPos, const int32_t* inputPos, int64_t B, int64_t K,
                            int64_t L);

}  // namespace dilemma
