#include "embed_cpu.h"

#include <cstring>
#include <vector>

#include "parallel.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dilemma {

namespace {

// Outputs much larger than the caches are written with non-temporal (streaming) stores: plain
// stores first read every destination line (read-for-ownership), doubling the write traffic.
constexpr int64_t kStreamBytes = int64_t{8} << 20;

bool can_stream(const float* dst, int64_t D, int64_t totalBytes) {
#if defined(__SSE2__)
  return totalBytes >= kStreamBytes && D % 4 == 0 && reinterpret_cast<uintptr_t>(dst) % 16 == 0;
#else
  (void)dst, (void)D, (void)totalBytes;
  return false;
#endif
}

#if defined(__SSE2__)
// dst 16-byte aligned, n % 4 == 0 (checked by can_stream).
inline void stream_add(float* dst, const float* a, const float* b, int64_t n) {
  for (int64_t d = 0; d < n; d += 4) _mm_stream_ps(dst + d, _mm_add_ps(_mm_loadu_ps(a + d), _mm_loadu_ps(b + d)));
}
inline void stream_copy(float* dst, const float* src, int64_t n) {
  for (int64_t d = 0; d < n; d += 4) _mm_stream_ps(dst + d, _mm_loadu_ps(src + d));
}
inline void stream_zero(float* dst, int64_t n) {
  const __m128 z = _mm_setzero_ps();
  for (int64_t d = 0; d < n; d += 4) _mm_stream_ps(dst + d, z);
}
inline void stream_fence() { _mm_sfence(); }
#else
inline void stream_add(float* dst, const float* a, const float* b, int64_t n) {
  for (int64_t d = 0; d < n; ++d) dst[d] = a[d] + b[d];
}
inline void stream_copy(float* dst, const float* src, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }
inline void stream_zero(float* dst, int64_t n) { std::memset(dst, 0, n * sizeof(float)); }
inline void stream_fence() {}
#endif

}  // namespace

std::string check_positions(const char* op, const int32_t* realPos, const int32_t* inputPos, int64_t B, int64_t K,
                            int64_t L) {
  const int32_t* arrs[2] = {realPos, inputPos};
  const char* names[2] = {"realPos", "inputPos"};
  for (int a = 0; a < 2; ++a) {
    const int32_t* idx = arrs[a];
    for (int64_t n = 0; n < B * K; ++n) {
      if (idx[n] < 0 || idx[n] >= L) {
        return std::string(op) + ": " + names[a] + "[" + std::to_string(n / K) + "," + std::to_string(n % K) +
               "]=" + std::to_string(idx[n]) + " out of [0, " + std::to_string(L) + ")";
      }
    }
  }
  return "";
}

std::string embed_fwd_cpu(const float* tokens, const float* pos, const int32_t* realPos, const int32_t* inputPos,
                          int64_t B, int64_t L, int64_t K, int64_t D, float* out) {
  std::string err = check_positions("DilemmaEmbed", realPos, inputPos, B, K, L);
  if (!err.empty()) return err;
  const int64_t rows = B * K;
  const bool stream = can_stream(out, D, rows * D * 4);
  parallel_for(rows, rows * D * 12, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / K;
      const float* __restrict t = tokens + (b * L + realPos[r]) * D;
      const float* __restrict p = pos + static_cast<int64_t>(inputPos[r]) * D;
      float* __restrict o = out + r * D;
      if (stream) stream_add(o, t, p, D);
      else for (int64_t d = 0; d < D; ++d) o[d] = t[d] + p[d];
    }
    if (stream) stream_fence();
  });
  return "";
}

std::string embed_bwd_cpu(const float* dy, const int32_t* realPos, const int32_t* inputPos, int64_t B, int64_t L,
                          int64_t K, int64_t D, float* dTokens, float* dPos) {
  std::string err = check_positions("DilemmaEmbedGrad", realPos, inputPos, B, K, L);
  if (!err.empty()) return err;
  const size_t rowBytes = static_cast<size_t>(D) * sizeof(float);
  // dTokens: each row written once (zeros or a copy of its dy row), instead of zero-fill + scatter.
  const bool stream = can_stream(dTokens, D, B * L * D * 4);
  parallel_for(B, B * (L + K) * D * 4, [&](int64_t b0, int64_t b1) {
    std::vector<int32_t> slot(static_cast<size_t>(L));
    std::vector<int32_t> dups;
    for (int64_t b = b0; b < b1; ++b) {
      std::fill(slot.begin(), slot.end(), -1);
      dups.clear();
      const int32_t* rp = realPos + b * K;
      for (int64_t i = 0; i < K; ++i) {
        if (slot[rp[i]] < 0) slot[rp[i]] = static_cast<int32_t>(i);
        else dups.push_back(static_cast<int32_t>(i));
      }
      float* dst = dTokens + b * L * D;
      for (int64_t l = 0; l < L; ++l) {
        if (stream) {
          if (slot[l] < 0) stream_zero(dst + l * D, D);
          else stream_copy(dst + l * D, dy + (b * K + slot[l]) * D, D);
        } else {
          if (slot[l] < 0) std::memset(dst + l * D, 0, rowBytes);
          else std::memcpy(dst + l * D, dy + (b * K + slot[l]) * D, rowBytes);
        }
      }
      if (stream) stream_fence();  // before the duplicate rows below read dst back
      for (int32_t i : dups) {  // not produced by the sampler; summed so the op stays a true gradient
        float* __restrict o = dst + static_cast<int64_t>(rp[i]) * D;
        const float* __restrict g = dy + (b * K + i) * D;
        for (int64_t d = 0; d < D; ++d) o[d] += g[d];
      }
    }
  });
  // dPos: split the columns (in 64-byte blocks) over threads; every element sums its rows in (b, i) order.
  std::memset(dPos, 0, static_cast<size_t>(L) * rowBytes);
  const int64_t N = B * K;
  const int64_t colBlocks = (D + 15) / 16;
  parallel_for(colBlocks, N * D * 4, [&](int64_t c0, int64_t c1) {
    const int64_t d0 = c0 * 16, d1 = std::min(D, c1 * 16);
    for (int64_t n = 0; n < N; ++n) {
      float* __restrict o = dPos + static_cast<int64_t>(inputPos[n]) * D;
      const float* __restrict g = dy + n * D;
      for (int64_t d = d0; d < d1; ++d) o[d] += g[d];
    }
  });
  return "";
}

}  // namespace dilemma
