// Host API of the DILEMMA CUDA kernels, on device pointers, for a CUDA tfjs backend and the
// device check. All calls are asynchronous on `stream`; they return the launch status.
// `err` (nullable, device int32): set to 1 when an index is out of [0, L), 2 when realPos repeats
// within a row; offending rows are skipped, never read out of bounds. Check it when you sync.
// CPU references: embed_cpu.h (embed_fwd_cpu / embed_bwd_cpu).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma {

/** out[b,i,:] = tokens[b, realPos[b,i], :] + pos[inputPos[b,i], :] (float4 path when D % 4 == 0). */
cudaError_t embed_fwd_cuda(const float* tokens, const float* pos, const int32_t* realPos, const int32_t* inputPos,
                           int B, int L, int K, int D, float* out, int32_t* err, cudaStream_t stream);

/**
 * dTokens (every row written once: zeros or its dy row) and dPos (deterministic: each element
 * sums its rows in (b, i) order, bitwise equal to embed_bwd_cpu).
 */
cudaError_t embed_bwd_cuda(const float* dy, const int32_t* realPos, const int32_t* inputPos, int B, int L, int K,
                           int D, float* dTokens, float* dPos, int32_t* err, cudaStream_t stream);

}  // namespace dilemma
