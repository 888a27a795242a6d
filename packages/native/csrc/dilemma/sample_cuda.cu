// DILEMMA sampler on the GPU. CPU reference beside it: sample_cpu.cc (sample_cpu); both use
// philox.h, and the device check compares realPos / inputPos / labels for exact equality.
#include <cuda_runtime.h>

#include "dilemma_cuda.h"
#include "philox.h"

namespace dilemma {
namespace {

// One block per batch row. Keys (u24 << 32 | l) are distinct, so the stable argsort of the noise is
// the order of the keys; each thread ranks its keys by counting the smaller ones (O(L) per key from
// shared memory; L <= 4096 keeps this cheap) and scatters its index to that rank.
__global__ void sample_kernel(uint32_t k0, uint32_t k1, uint32_t step, int L, int K, double p,
                              int32_t* __restrict__ realPos, int32_t* __restrict__ inputPos,
                              float* __restrict__ labels) {
  extern __shared__ unsigned long long smem[];
  unsigned long long* keys = smem;
  int* ids = reinterpret_cast<int*>(keys + L);
  const uint32_t b = blockIdx.x;
  for (int l = threadIdx.x; l < L; l += blockDim.x) {
    const Philox4 r = philox4x32_10(static_cast<uint32_t>(l >> 2), b, step, kStreamNoise, k0, k1);
    keys[l] = (static_cast<unsigned long long>(philox_u24(r.w[l & 3])) << 32) | static_cast<unsigned>(l);
  }
  __syncthreads();
  for (int l = threadIdx.x; l < L; l += blockDim.x) {
    const unsigned long long mine = keys[l];
    int rank = 0;
    for (int j = 0; j < L; ++j) rank += keys[j] < mine;
    ids[rank] = l;
  }
  __syncthreads();
  const int64_t rowOff = static_cast<int64_t>(b) * K;
  for (int i = threadIdx.x; i < K; i += blockDim.x) {
    const Philox4 r = philox4x32_10(static_cast<uint32_t>(i >> 2), b, step, kStreamLabel, k0, k1);
    const bool wrong = philox_uniform(r.w[i & 3]) < p;
    const int real = ids[i];
    const int corrupt = K < L ? ids[L - K + i] : ids[L - 1 - i];
    realPos[rowOff + i] = real;
    inputPos[rowOff + i] = wrong ? corrupt : real;
    labels[rowOff + i] = wrong ? 1.0f : 0.0f;
  }
}

}  // namespace

cudaError_t sample_cuda(uint64_t seed, uint32_t step, int B, int L, int K, double p, int32_t* realPos,
                        int32_t* inputPos, float* labels, cudaStream_t stream) {
  if (L < 1 || L > kSampleMaxL || K < 1 || K > L || B < 0) return cudaErrorInvalidValue;
  if (B == 0) return cudaSuccess;
  int threads = ((L + 31) / 32) * 32;
  if (threads > 1024) threads = 1024;
  const size_t shmem = static_cast<size_t>(L) * (sizeof(unsigned long long) + sizeof(int));
  sample_kernel<<<B, threads, shmem, stream>>>(static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), step,
                                               L, K, p, realPos, inputPos, labels);
  return cudaGetLastError();
}

}  // namespace dilemma
