// Philox4x32-10 exactly as docs/sampling.md (Salmon et al. SC'11, Random123/cuRAND constants).
// Header-only and __host__ __device__; the device check (cuda_check.cu) draws its inputs with it.
// (core's TypeScript sampler is the one that draws training positions.)
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define DILEMMA_HD __host__ __device__ __forceinline__
#else
#define DILEMMA_HD inline
#endif

namespace dilemma {

struct Philox4 {
  uint32_t w[4];
};

/** philox((c0, c1, c2, c3), (k0, k1)) -> four uint32 words. */
DILEMMA_HD Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = static_cast<uint64_t>(M0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(M1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    if (r < 9) {
      k0 += W0;
      k1 += W1;
    }
  }
  Philox4 out;
  out.w[0] = c0;
  out.w[1] = c1;
  out.w[2] = c2;
  out.w[3] = c3;
  return out;
}

/** Uniform in [0, 1), exact in float32 and float64. */
DILEMMA_HD double philox_uniform(uint32_t word) { return static_cast<double>(word >> 8) * (1.0 / 16777216.0); }

}  // namespace dilemma
