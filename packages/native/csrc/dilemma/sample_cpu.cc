#include "sample_cpu.h"

#include <algorithm>
#include <vector>

#include "parallel.h"
#include "philox.h"

namespace dilemma {

std::string check_sample_args(int64_t B, int64_t L, int64_t K) {
  if (B < 0) return "dilemmaSample: batch must be >= 0, got " + std::to_string(B);
  if (L < 1 || L > (int64_t{1} << 30)) return "dilemmaSample: numPatches must be in [1, 2^30], got " + std::to_string(L);
  if (K < 1 || K > L)
    return "dilemmaSample: numKept must be in [1, numPatches=" + std::to_string(L) + "], got " + std::to_string(K) +
           " (tokenDrop too large?)";
  return "";
}

std::string sample_cpu(uint64_t seed, uint32_t step, int64_t B, int64_t L, int64_t K, double p, int32_t* realPos,
                       int32_t* inputPos, float* labels) {
  std::string err = check_sample_args(B, L, K);
  if (!err.empty()) return err;
  const uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  parallel_for(B, B * L * 64, [&](int64_t b0, int64_t b1) {
    // (u24 << 32 | l) keys are distinct, so an unstable sort of them is the stable argsort of u.
    std::vector<uint64_t> keys(static_cast<size_t>(L));
    for (int64_t b = b0; b < b1; ++b) {
      const uint32_t cb = static_cast<uint32_t>(b);
      for (int64_t l0 = 0; l0 < L; l0 += 4) {
        const Philox4 r = philox4x32_10(static_cast<uint32_t>(l0 / 4), cb, step, kStreamNoise, k0, k1);
        for (int64_t j = 0; j < 4 && l0 + j < L; ++j)
          keys[l0 + j] = (static_cast<uint64_t>(philox_u24(r.w[j])) << 32) | static_cast<uint64_t>(l0 + j);
      }
      std::sort(keys.begin(), keys.end());
      int32_t* rp = realPos + b * K;
      int32_t* ip = inputPos + b * K;
      float* lb = labels + b * K;
      for (int64_t i0 = 0; i0 < K; i0 += 4) {
        const Philox4 r = philox4x32_10(static_cast<uint32_t>(i0 / 4), cb, step, kStreamLabel, k0, k1);
        for (int64_t j = 0; j < 4 && i0 + j < K; ++j) {
          const int64_t i = i0 + j;
          const bool wrong = philox_uniform(r.w[j]) < p;
          const int32_t real = static_cast<int32_t>(keys[i] & 0xffffffffu);
          const int64_t c = K < L ? L - K + i : L - 1 - i;
          const int32_t corrupt = static_cast<int32_t>(keys[c] & 0xffffffffu);
          rp[i] = real;
          ip[i] = wrong ? corrupt : real;
          lb[i] = wrong ? 1.0f : 0.0f;
        }
      }
    }
  });
  return "";
}

}  // namespace dilemma
