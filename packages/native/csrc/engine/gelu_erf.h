// The exact-GELU loops of gelu_erf.cc (float erf, AVX2 clone chosen at run time), for kernels
// that apply GELU to blocks they hold in cache (FusedMlp).
#pragma once
#include <cstdint>

namespace dilemma {

/** out[i] = 0.5 x (1 + erf(x / sqrt 2)); out must not overlap x. */
void GeluErfRows(const float* x, float* out, int64_t n);
/** out[i] = dy (Phi(x) + x phi(x)); out must not overlap dy or x. */
void GeluErfGradRows(const float* dy, const float* x, float* out, int64_t n);

}  // namespace dilemma
