// Device check: random inputs, POISONED (NaN-filled) outputs, every CUDA kernel against its CPU
// reference on the same inputs, cudaEvent timing (median of reps) and the copy bandwidth of the
// same device measured in the same run.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "cuda_check.h"
#include "dilemma_cuda.h"
#include "embed_cpu.h"
#include "embed_cuda_blocks.cuh"
#include "philox.h"

namespace dilemma {
namespace {

struct CudaFail {
  std::string msg;
};

void ck(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw CudaFail{std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e)};
}

template <class T>
struct DevBuf {
  T* p = nullptr;
  size_t n = 0;
  explicit DevBuf(size_t count) : n(count) { ck(cudaMalloc(&p, std::max<size_t>(1, n) * sizeof(T)), "cudaMalloc"); }
  ~DevBuf() { cudaFree(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  void up(const std::vector<T>& h) { ck(cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice), "upload"); }
  std::vector<T> down() const {
    std::vector<T> h(n);
    ck(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return h;
  }
  void poison() { ck(cudaMemset(p, 0xFF, n * sizeof(T)), "poison"); }  // 0xFFFFFFFF is a NaN
};

std::vector<float> randn_like(size_t n, uint32_t stream, uint64_t seed) {  // uniform [-1, 1) from Philox
  std::vector<float> v(n);
  for (size_t i = 0; i < n; i += 4) {
    const Philox4 r = philox4x32_10(static_cast<uint32_t>(i / 4), static_cast<uint32_t>(i >> 34), stream, 7,
                                    static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    for (size_t j = 0; j < 4 && i + j < n; ++j) v[i + j] = static_cast<float>(philox_uniform(r.w[j]) * 2.0 - 1.0);
  }
  return v;
}

// Positions for the embedding kernels, drawn like the DILEMMA sampler (docs/sampling.md) but not
// bit for bit: per row, K distinct realPos (a Philox-driven partial Fisher-Yates shuffle of
// [0, L)) and inputPos = realPos, or with probability p a dropped position (another kept one when
// K == L).
void draw_positions(uint64_t seed, uint32_t step, int B, int L, int K, double p, int32_t* realPos, int32_t* inputPos) {
  std::vector<int32_t> perm(static_cast<size_t>(L));
  for (int b = 0; b < B; ++b) {
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = 0; i < K; ++i) {
      const Philox4 r = philox4x32_10(static_cast<uint32_t>(i), static_cast<uint32_t>(b), step, 9,
                                      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
      const int j = std::min(L - 1, i + static_cast<int>(philox_uniform(r.w[0]) * (L - i)));
      std::swap(perm[i], perm[j]);
    }
    for (int i = 0; i < K; ++i) {
      const Philox4 r = philox4x32_10(static_cast<uint32_t>(i), static_cast<uint32_t>(b), step, 10,
                                      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
      const bool wrong = philox_uniform(r.w[0]) < p;
      realPos[size_t(b) * K + i] = perm[i];
      inputPos[size_t(b) * K + i] = wrong ? perm[K < L ? L - K + i : L - 1 - i] : perm[i];
    }
  }
}

void compare(const std::vector<float>& ref, const std::vector<float>& got, double tol, CudaCheckRow* row) {
  for (size_t i = 0; i < ref.size(); ++i) {
    const double e = std::fabs(static_cast<double>(ref[i]) - static_cast<double>(got[i]));
    if (!(e <= tol)) ++row->mismatches;  // NaN counts as a mismatch
    if (std::isnan(e)) row->maxAbsErr = NAN;
    else if (e > row->maxAbsErr) row->maxAbsErr = e;  // NaN stays NaN: comparisons with it are false
  }
}

template <class Fn>
double median_us(int reps, Fn&& fn) {
  cudaEvent_t a, b;
  ck(cudaEventCreate(&a), "cudaEventCreate");
  ck(cudaEventCreate(&b), "cudaEventCreate");
  for (int i = 0; i < 3; ++i) fn();  // warm-up
  ck(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> t(static_cast<size_t>(std::max(1, reps)));
  for (auto& ms : t) {
    ck(cudaEventRecord(a), "cudaEventRecord");
    fn();
    ck(cudaEventRecord(b), "cudaEventRecord");
    ck(cudaEventSynchronize(b), "cudaEventSynchronize");
    ck(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(t.begin(), t.end());
  return 1000.0 * t[t.size() / 2];
}

// The measured alternative to embed_bwd_cuda, only timed here: dTokens as there (a separate
// launch), dPos by memset + float atomicAdd (fast, NOT deterministic).
template <class V>
__global__ void embed_bwd_dtokens_kernel(const V* __restrict__ dy, const int32_t* __restrict__ realPos, int L, int K,
                                         int DV, V* __restrict__ dTokens, int32_t* err) {
  __shared__ int slot[kTile];
  dtokens_block<V>(dy, realPos, L, K, DV, dTokens, err, blockIdx.x, blockIdx.y, slot);
}

// dPos, atomic alternative: one warp per dy row, float atomicAdd per element into a zeroed dPos.
__global__ void embed_bwd_dpos_atomic_kernel(const float* __restrict__ dy, const int32_t* __restrict__ inputPos,
                                             int64_t N, int L, int D, float* __restrict__ dPos, int32_t* err) {
  const int64_t n = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (n >= N) return;
  const int q = __ldg(inputPos + n);
  if (static_cast<unsigned>(q) >= static_cast<unsigned>(L)) {
    if (lane == 0) flag(err, 1);
    return;
  }
  const float* src = dy + n * D;
  float* dst = dPos + static_cast<int64_t>(q) * D;
  for (int j = lane; j < D; j += 32) atomicAdd(dst + j, __ldg(src + j));
}

template <class V>
void launch_dtokens(const float* dy, const int32_t* realPos, int B, int L, int K, int D, float* dTokens, int32_t* err,
                    cudaStream_t s) {
  const int width = sizeof(V) / sizeof(float);
  const dim3 grid(B, (L + kTile - 1) / kTile);
  embed_bwd_dtokens_kernel<V><<<grid, 256, 0, s>>>(reinterpret_cast<const V*>(dy), realPos, L, K, D / width,
                                                   reinterpret_cast<V*>(dTokens), err);
}

cudaError_t embed_bwd_atomic_cuda(const float* dy, const int32_t* realPos, const int32_t* inputPos, int B, int L,
                                  int K, int D, float* dTokens, float* dPos, int32_t* err, cudaStream_t stream) {
  cudaError_t e = cudaMemsetAsync(dPos, 0, sizeof(float) * L * D, stream);
  if (e != cudaSuccess || B == 0 || D == 0) return e;
  if (L == 0) return K == 0 ? cudaSuccess : cudaErrorInvalidValue;  // empty dTokens grid (see embed_bwd_cuda)
  if ((L + kTile - 1) / kTile > 65535) return cudaErrorInvalidValue;  // gridDim.y limit of launch_dtokens
  if (vec4(dy, dTokens, D)) launch_dtokens<float4>(dy, realPos, B, L, K, D, dTokens, err, stream);
  else launch_dtokens<float>(dy, realPos, B, L, K, D, dTokens, err, stream);
  const int64_t N = static_cast<int64_t>(B) * K;
  const int64_t blocks = (N * 32 + 255) / 256;
  if (blocks == 0) return cudaGetLastError();  // K == 0: no dy rows (an empty grid is an invalid launch)
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
  embed_bwd_dpos_atomic_kernel<<<static_cast<unsigned>(blocks), 256, 0, stream>>>(dy, inputPos, N, L, D, dPos, err);
  return cudaGetLastError();
}

void run(const CudaCheckOptions& o, CudaCheckResult* res) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0)
    throw CudaFail{std::string("no CUDA device (cudaGetDeviceCount: ") +
                   (e == cudaSuccess ? "0 devices" : cudaGetErrorString(e)) + ")"};
  cudaDeviceProp prop;
  ck(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  res->device = prop.name;
  res->ccMajor = prop.major;
  res->ccMinor = prop.minor;
  const int B = o.B, L = o.L, K = o.K, D = o.D;
  if (B < 1 || L < 1 || K < 1 || K > L)
    throw CudaFail{"cudaDilemmaCheck: need B >= 1 and 1 <= K <= L, got B=" + std::to_string(B) + " L=" +
                   std::to_string(L) + " K=" + std::to_string(K)};
  const size_t nTok = size_t(B) * L * D, nPos = size_t(L) * D, nIdx = size_t(B) * K, nOut = size_t(B) * K * D;

  // Copy bandwidth of this device, same run (read + write bytes).
  {
    const size_t bytes = size_t(256) << 20;
    DevBuf<char> src(bytes), dst(bytes);
    ck(cudaMemset(src.p, 1, bytes), "memset");
    const double us = median_us(o.reps, [&] { ck(cudaMemcpyAsync(dst.p, src.p, bytes, cudaMemcpyDeviceToDevice), "memcpy D2D"); });
    res->copyGBps = 2.0 * bytes / us / 1e3;
  }

  // Embedding op on random inputs and positions.
  std::vector<int32_t> realPos(nIdx), inputPos(nIdx);
  draw_positions(o.seed, o.step, B, L, K, o.p, realPos.data(), inputPos.data());
  const std::vector<float> tokens = randn_like(nTok, 1, o.seed), pos = randn_like(nPos, 2, o.seed),
                           dy = randn_like(nOut, 3, o.seed);
  DevBuf<float> dTok(nTok), dPosE(nPos), dOut(nOut), dDy(nOut), dDTok(nTok), dDPos(nPos);
  DevBuf<int32_t> dRp(nIdx), dIp(nIdx), dErr(1);
  dTok.up(tokens);
  dPosE.up(pos);
  dDy.up(dy);
  dRp.up(realPos);
  dIp.up(inputPos);
  ck(cudaMemset(dErr.p, 0, sizeof(int32_t)), "memset err");

  std::vector<float> refOut(nOut), refDTok(nTok), refDPos(nPos);
  std::string err = embed_fwd_cpu(tokens.data(), pos.data(), realPos.data(), inputPos.data(), B, L, K, D, refOut.data());
  if (err.empty()) err = embed_bwd_cpu(dy.data(), realPos.data(), inputPos.data(), B, L, K, D, refDTok.data(), refDPos.data());
  if (!err.empty()) throw CudaFail{err};

  const double fwdBytes = 4.0 * 3 * B * K * D;
  const double bwdBytes = 4.0 * (double(B) * L * D + 2.0 * B * K * D + double(L) * D);
  auto fwd = [&] { ck(embed_fwd_cuda(dTok.p, dPosE.p, dRp.p, dIp.p, B, L, K, D, dOut.p, dErr.p, nullptr), "embed_fwd_cuda"); };
  auto bwd = [&] { ck(embed_bwd_cuda(dDy.p, dRp.p, dIp.p, B, L, K, D, dDTok.p, dDPos.p, dErr.p, nullptr), "embed_bwd_cuda"); };
  auto bwdAtomic = [&] {
    ck(embed_bwd_atomic_cuda(dDy.p, dRp.p, dIp.p, B, L, K, D, dDTok.p, dDPos.p, dErr.p, nullptr), "embed_bwd_atomic_cuda");
  };
  {
    CudaCheckRow row;
    row.kernel = "embed_fwd";
    dOut.poison();
    fwd();
    ck(cudaDeviceSynchronize(), "embed_fwd_cuda");
    compare(refOut, dOut.down(), 0.0, &row);  // one float add: bitwise equal expected
    row.us = median_us(o.reps, fwd);
    row.bytes = fwdBytes;
    res->rows.push_back(row);
  }
  {
    CudaCheckRow row;
    row.kernel = "embed_bwd";
    dDTok.poison();
    dDPos.poison();
    bwd();
    ck(cudaDeviceSynchronize(), "embed_bwd_cuda");
    compare(refDTok, dDTok.down(), 0.0, &row);
    compare(refDPos, dDPos.down(), 0.0, &row);  // same summation order as the CPU: bitwise equal expected
    row.us = median_us(o.reps, bwd);
    row.bytes = bwdBytes;
    res->rows.push_back(row);
  }
  {
    CudaCheckRow row;
    row.kernel = "embed_bwd_atomic";
    dDTok.poison();
    dDPos.poison();
    bwdAtomic();
    ck(cudaDeviceSynchronize(), "embed_bwd_atomic_cuda");
    compare(refDTok, dDTok.down(), 0.0, &row);
    compare(refDPos, dDPos.down(), 1e-4 * std::max(1.0, double(B) * K / L), &row);  // order of adds varies
    row.us = median_us(o.reps, bwdAtomic);
    row.bytes = bwdBytes;
    res->rows.push_back(row);
  }
  {
    CudaCheckRow row;
    row.kernel = "embed_fwd_bwd";
    row.us = median_us(o.reps, [&] { fwd(); bwd(); });
    row.bytes = fwdBytes + bwdBytes;
    row.maxAbsErr = 0;  // validated above, kernel by kernel
    res->rows.push_back(row);
  }
  int32_t flag = -1;
  ck(cudaMemcpy(&flag, dErr.p, sizeof(int32_t), cudaMemcpyDeviceToHost), "read err flag");
  if (flag != 0) throw CudaFail{"CUDA kernels flagged an index error (" + std::to_string(flag) + ") on valid inputs"};
  // An out-of-range index must be flagged, not read.
  const int32_t bad = L;
  ck(cudaMemcpy(dRp.p, &bad, sizeof(int32_t), cudaMemcpyHostToDevice), "upload bad index");
  fwd();
  ck(cudaMemcpy(&flag, dErr.p, sizeof(int32_t), cudaMemcpyDeviceToHost), "read err flag");
  res->boundsErrorDetected = flag == 1;
}

}  // namespace

std::string cuda_dilemma_check(const CudaCheckOptions& opt, CudaCheckResult* res) {
  try {
    run(opt, res);
  } catch (const CudaFail& f) {
    return f.msg;
  }
  return "";
}

}  // namespace dilemma
