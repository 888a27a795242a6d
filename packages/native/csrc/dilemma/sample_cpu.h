// DILEMMA position sampling on the CPU, bit for bit as docs/sampling.md (and core's sampleDilemma).
#pragma once
#include <cstdint>
#include <string>

namespace dilemma {

/**
 * One draw for a batch: realPos / inputPos int32 [B,K], labels float32 [B,K] (1 = wrong position).
 * Keys: k0 = low 32 bits of seed, k1 = high 32 bits. Requires 1 <= K <= L.
 * Returns "" on success, else an error naming the bad argument.
 */
std::string sample_cpu(uint64_t seed, uint32_t step, int64_t B, int64_t L, int64_t K, double p, int32_t* realPos,
                       int32_t* inputPos, float* labels);

/** Argument check shared with the CUDA sampler. */
std::string check_sample_args(int64_t B, int64_t L, int64_t K);

}  // namespace dilemma
