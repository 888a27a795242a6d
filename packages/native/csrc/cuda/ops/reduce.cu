// CUDA kernels of gpu.reduce; semantics and CPU reference: reduce.cc. x is [outer, r, inner].
//   inner == 1: rows. A warp per row (lanes stride over r, shuffle tree), or a block per row
//     when rows are long and few.
//   inner > 1: columns. A 32 x 8 block covers 32 adjacent columns (coalesced); its 8 thread rows
//     stride over r and are combined through shared memory in a fixed order.
//   Few outputs over a long r (bias gradients): r is split across blocks into scratch partials,
//     combined in chunk order by a second kernel (launch_split).
// Each op is a small policy (init / load / combine / finish); float32 Sum / Mean / Prod
// accumulate in double (memory-bound, so the fp64 costs nothing visible) to stay close to the
// reference; every order of combination is fixed, so results are deterministic.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/scratch.h"
#include "cuda/ops/reduce_cuda.h"
#include "op_codes.h"

namespace dilemma::gpu {
namespace {

enum ReduceOp { DILEMMA_REDUCE_OPS(DILEMMA_OP_ENUMERATOR) };
constexpr int kF32 = 0;

// ---- shuffles of the accumulator types ----
__device__ __forceinline__ double shfl_down(double v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ float shfl_down(float v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ int32_t shfl_down(int32_t v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ uint32_t shfl_down(uint32_t v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ int64_t shfl_down(int64_t v, int o) {
  return static_cast<int64_t>(__shfl_down_sync(0xffffffffu, static_cast<long long>(v), o));
}

// ArgMax / ArgMin candidate. idx == kNoIdx: empty.
constexpr int64_t kNoIdx = INT64_MAX;
template <class T>
struct Arg {
  T v;
  int64_t idx;
};
template <class T>
__device__ __forceinline__ Arg<T> shfl_down(Arg<T> a, int o) {
  return Arg<T>{shfl_down(a.v, o), shfl_down(a.idx, o)};
}

// ---- op policies: Acc init(); Acc load(In v, int64 j); Acc combine(Acc, Acc); Out finish(Acc, r) ----
template <class In, class Out>
struct SumD {  // float: double accumulator
  using Acc = double;
  __device__ static Acc init() { return 0.0; }
  __device__ static Acc load(In v, int64_t) { return static_cast<double>(v); }
  __device__ static Acc combine(Acc a, Acc b) { return a + b; }
  __device__ static Out finish(Acc a, int64_t) { return static_cast<Out>(a); }
};
struct MeanD {
  using Acc = double;
  __device__ static Acc init() { return 0.0; }
  template <class In>
  __device__ static Acc load(In v, int64_t) { return static_cast<double>(v); }
  __device__ static Acc combine(Acc a, Acc b) { return a + b; }
  __device__ static float finish(Acc a, int64_t r) { return static_cast<float>(a / static_cast<double>(r)); }
};
struct SumI {  // int32 wraps mod 2^32 (unsigned arithmetic: no UB)
  using Acc = uint32_t;
  __device__ static Acc init() { return 0u; }
  __device__ static Acc load(int32_t v, int64_t) { return static_cast<uint32_t>(v); }
  __device__ static Acc combine(Acc a, Acc b) { return a + b; }
  __device__ static int32_t finish(Acc a, int64_t) { return static_cast<int32_t>(a); }
};
struct ProdD {
  using Acc = double;
  __device__ static Acc init() { return 1.0; }
  __device__ static Acc load(float v, int64_t) { return static_cast<double>(v); }
  __device__ static Acc combine(Acc a, Acc b) { return a * b; }
  __device__ static float finish(Acc a, int64_t) { return static_cast<float>(a); }
};
struct ProdI {
  using Acc = uint32_t;
  __device__ static Acc init() { return 1u; }
  __device__ static Acc load(int32_t v, int64_t) { return static_cast<uint32_t>(v); }
  __device__ static Acc combine(Acc a, Acc b) { return a * b; }
  __device__ static int32_t finish(Acc a, int64_t) { return static_cast<int32_t>(a); }
};
// NaN-propagating max / min (fmaxf would drop NaNs).
template <bool kIsMax>
struct ExtF {
  using Acc = float;
  __device__ static Acc init() { return kIsMax ? -INFINITY : INFINITY; }
  __device__ static Acc load(float v, int64_t) { return v; }
  __device__ static Acc combine(Acc a, Acc b) {
    if (a != a || b != b) return __int_as_float(0x7fc00000);
    return kIsMax ? (b > a ? b : a) : (b < a ? b : a);
  }
  __device__ static float finish(Acc a, int64_t) { return a; }
};
template <bool kIsMax>
struct ExtI {
  using Acc = int32_t;
  __device__ static Acc init() { return kIsMax ? INT32_MIN : INT32_MAX; }
  __device__ static Acc load(int32_t v, int64_t) { return v; }
  __device__ static Acc combine(Acc a, Acc b) { return kIsMax ? (b > a ? b : a) : (b < a ? b : a); }
  __device__ static int32_t finish(Acc a, int64_t) { return a; }
};
// tfjs scans j = 0.. with `v > best` from best = x[0]: the result is the first index of the
// extreme over the non-NaN values, except that a NaN at index 0 is never displaced. As an
// order-free rule: NaN at 0 beats all; other NaNs lose to all; larger (smaller) value wins;
// ties go to the lower index.
template <class T, bool kIsMax>
struct ArgExt {
  using Acc = Arg<T>;
  __device__ static Acc init() { return Acc{T(0), kNoIdx}; }
  __device__ static Acc load(T v, int64_t j) { return Acc{v, j}; }
  __device__ static bool nan(T v) { return v != v; }
  __device__ static Acc combine(Acc a, Acc b) {
    if (a.idx == kNoIdx) return b;
    if (b.idx == kNoIdx) return a;
    if (a.idx == 0 && nan(a.v)) return a;
    if (b.idx == 0 && nan(b.v)) return b;
    if (nan(a.v)) return b;
    if (nan(b.v)) return a;
    if (kIsMax ? a.v > b.v : a.v < b.v) return a;
    if (kIsMax ? b.v > a.v : b.v < a.v) return b;
    return a.idx < b.idx ? a : b;
  }
  __device__ static int32_t finish(Acc a, int64_t) { return a.idx == kNoIdx ? 0 : static_cast<int32_t>(a.idx); }
};
template <bool kIsAll>
struct Logic {
  using Acc = int32_t;
  __device__ static Acc init() { return kIsAll ? 1 : 0; }
  __device__ static Acc load(int32_t v, int64_t) { return v != 0 ? 1 : 0; }
  __device__ static Acc combine(Acc a, Acc b) { return kIsAll ? (a & b) : (a | b); }
  __device__ static int32_t finish(Acc a, int64_t) { return a; }
};

template <class Op, class Acc>
__device__ __forceinline__ Acc warp_reduce(Acc a) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) a = Op::combine(a, shfl_down(a, o));
  return a;  // lane 0 holds the result
}

// inner == 1, a warp per row, grid-stride over rows (row is warp-uniform, so full-mask shuffles
// are safe).
template <class Op, class In, class Out>
__global__ void reduce_rows_warp(const In* __restrict__ x, Out* __restrict__ out, int64_t outer, int64_t r) {
  const int lane = threadIdx.x & 31;
  const int64_t warpsPerBlock = blockDim.x >> 5;
  const int64_t nWarps = static_cast<int64_t>(gridDim.x) * warpsPerBlock;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * warpsPerBlock + (threadIdx.x >> 5); row < outer;
       row += nWarps) {
    const In* xr = x + row * r;
    auto a = Op::init();
    for (int64_t j = lane; j < r; j += 32) a = Op::combine(a, Op::load(xr[j], j));
    a = warp_reduce<Op>(a);
    if (lane == 0) out[row] = Op::finish(a, r);
  }
}

// inner == 1, a block (kRowThreads) per row, for long rows with few of them.
constexpr int kRowThreads = 512;
template <class Op, class In, class Out>
__global__ void __launch_bounds__(kRowThreads)
    reduce_rows_block(const In* __restrict__ x, Out* __restrict__ out, int64_t outer, int64_t r) {
  using Acc = typename Op::Acc;
  __shared__ Acc part[kRowThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {  // block-uniform loop
    const In* xr = x + row * r;
    Acc a = Op::init();
    for (int64_t j = threadIdx.x; j < r; j += kRowThreads) a = Op::combine(a, Op::load(xr[j], j));
    a = warp_reduce<Op>(a);
    if (lane == 0) part[warp] = a;
    __syncthreads();
    if (warp == 0) {
      a = lane < kRowThreads / 32 ? part[lane] : Op::init();
      a = warp_reduce<Op>(a);
      if (lane == 0) out[row] = Op::finish(a, r);
    }
    __syncthreads();  // part is rewritten by the next row
  }
}

// inner > 1: block (32, kColRows) per (o, 32-column tile), grid-stride over tiles.
constexpr int kColRows = 8;
template <class Op, class In, class Out>
__global__ void __launch_bounds__(32 * kColRows)
    reduce_cols(const In* __restrict__ x, Out* __restrict__ out, int64_t outer, int64_t r, int64_t inner) {
  using Acc = typename Op::Acc;
  __shared__ Acc part[kColRows][32];
  const int64_t tilesPerOuter = (inner + 31) / 32;
  const int64_t tiles = outer * tilesPerOuter;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {  // block-uniform loop
    const int64_t o = t / tilesPerOuter;
    const int64_t c = (t % tilesPerOuter) * 32 + threadIdx.x;
    Acc a = Op::init();
    if (c < inner) {
      const In* col = x + o * r * inner + c;
      for (int64_t j = threadIdx.y; j < r; j += kColRows) a = Op::combine(a, Op::load(col[j * inner], j));
    }
    part[threadIdx.y][threadIdx.x] = a;
    __syncthreads();
    if (threadIdx.y == 0 && c < inner) {
      Acc s = part[0][threadIdx.x];
#pragma unroll
      for (int k = 1; k < kColRows; ++k) s = Op::combine(s, part[k][threadIdx.x]);
      out[o * inner + c] = Op::finish(s, r);
    }
    __syncthreads();
  }
}

// ---- split reductions: few outputs over a long r (bias gradients: outer 1, r = rows; sums of
// whole tensors). r is cut into chunks (the cut depends on the shape only, so results do not
// depend on the device); each block writes its chunk's partial accumulator into scratch, then
// one thread per output combines the chunks in order. ----
template <class Op, class In>
__global__ void __launch_bounds__(kRowThreads)
    rows_partial(const In* __restrict__ x, typename Op::Acc* __restrict__ part, int64_t outer, int64_t r,
                 int64_t chunkLen) {
  using Acc = typename Op::Acc;
  __shared__ Acc red[kRowThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t row = blockIdx.y, chunk = blockIdx.x;
  const int64_t j0 = chunk * chunkLen, j1 = j0 + chunkLen < r ? j0 + chunkLen : r;
  const In* xr = x + row * r;
  Acc a = Op::init();
  for (int64_t j = j0 + threadIdx.x; j < j1; j += kRowThreads) a = Op::combine(a, Op::load(xr[j], j));
  a = warp_reduce<Op>(a);
  if (lane == 0) red[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < kRowThreads / 32 ? red[lane] : Op::init();
    a = warp_reduce<Op>(a);
    if (lane == 0) part[chunk * outer + row] = a;
  }
}

// grid (chunks, outer * column tiles); block (32, kColRows) as in reduce_cols.
template <class Op, class In>
__global__ void __launch_bounds__(32 * kColRows)
    cols_partial(const In* __restrict__ x, typename Op::Acc* __restrict__ part, int64_t outer, int64_t r,
                 int64_t inner, int64_t chunkLen) {
  using Acc = typename Op::Acc;
  __shared__ Acc red[kColRows][32];
  const int64_t tilesPerOuter = (inner + 31) / 32;
  const int64_t t = blockIdx.y, chunk = blockIdx.x;
  const int64_t o = t / tilesPerOuter;
  const int64_t c = (t % tilesPerOuter) * 32 + threadIdx.x;
  const int64_t j0 = chunk * chunkLen, j1 = j0 + chunkLen < r ? j0 + chunkLen : r;
  Acc a = Op::init();
  if (c < inner) {
    const In* col = x + o * r * inner + c;
    for (int64_t j = j0 + threadIdx.y; j < j1; j += kColRows) a = Op::combine(a, Op::load(col[j * inner], j));
  }
  red[threadIdx.y][threadIdx.x] = a;
  __syncthreads();
  if (threadIdx.y == 0 && c < inner) {
    Acc s = red[0][threadIdx.x];
#pragma unroll
    for (int k = 1; k < kColRows; ++k) s = Op::combine(s, red[k][threadIdx.x]);
    part[chunk * outer * inner + o * inner + c] = s;
  }
}

template <class Op, class Out>
__global__ void combine_partials(const typename Op::Acc* __restrict__ part, Out* __restrict__ out, int64_t nOut,
                                 int64_t chunks, int64_t r) {
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < nOut;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    auto a = part[k];
    for (int64_t ch = 1; ch < chunks; ++ch) a = Op::combine(a, part[ch * nOut + k]);
    out[k] = Op::finish(a, r);
  }
}

// Partial sums live in a scratch block owned by this file (cuda/scratch.h).
DeviceScratch g_scratch;
cudaError_t Scratch(size_t bytes, cudaStream_t stream, void** out) { return g_scratch.Get(bytes, stream, out); }

// How many chunks to cut r into so that about kSplitBlocks blocks run, each over >= minChunk
// elements; returns 1 when splitting does not pay.
constexpr int64_t kSplitBlocks = 512;
int64_t SplitChunks(int64_t blocks, int64_t r, int64_t minChunk, int64_t* chunkLen) {
  if (blocks >= kSplitBlocks / 4 || r < 2 * minChunk) return 1;
  int64_t chunks = kSplitBlocks / blocks;
  const int64_t byLen = (r + minChunk - 1) / minChunk;
  if (chunks > byLen) chunks = byLen;
  if (chunks < 2) return 1;
  *chunkLen = (r + chunks - 1) / chunks;
  return (r + *chunkLen - 1) / *chunkLen;
}

template <class Op, class In, class Out>
cudaError_t launch_split(const In* x, Out* out, int64_t outer, int64_t r, int64_t inner, int64_t chunks,
                         int64_t chunkLen, cudaStream_t s) {
  using Acc = typename Op::Acc;
  const int64_t nOut = outer * inner;
  void* scratch = nullptr;
  cudaError_t e = Scratch(sizeof(Acc) * chunks * nOut, s, &scratch);
  if (e != cudaSuccess) return e;
  Acc* part = static_cast<Acc*>(scratch);
  if (inner == 1) {
    rows_partial<Op, In><<<dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(outer)), kRowThreads, 0, s>>>(
        x, part, outer, r, chunkLen);
  } else {
    const int64_t tiles = outer * ((inner + 31) / 32);
    cols_partial<Op, In><<<dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(tiles)), dim3(32, kColRows), 0,
                           s>>>(x, part, outer, r, inner, chunkLen);
  }
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  combine_partials<Op, Out><<<static_cast<unsigned>((nOut + 255) / 256), 256, 0, s>>>(part, out, nOut, chunks, r);
  return cudaGetLastError();
}

template <class Op, class In, class Out>
cudaError_t launch(const void* xv, void* outv, int64_t outer, int64_t r, int64_t inner, cudaStream_t s) {
  const In* x = static_cast<const In*>(xv);
  Out* out = static_cast<Out*>(outv);
  constexpr int64_t kMaxGrid = 65535 * 16;
  {  // few outputs over a long r: split r across blocks (outer / tiles < kSplitBlocks / 4 fit grid.y)
    int64_t chunkLen = 0;
    const int64_t chunks = inner == 1 ? SplitChunks(outer, r, 4096, &chunkLen)
                                      : SplitChunks(outer * ((inner + 31) / 32), r, 64, &chunkLen);
    if (chunks > 1) return launch_split<Op, In, Out>(x, out, outer, r, inner, chunks, chunkLen, s);
  }
  if (inner == 1) {
    if (r >= 4096 && outer < 1024) {
      reduce_rows_block<Op, In, Out><<<static_cast<unsigned>(outer), kRowThreads, 0, s>>>(x, out, outer, r);
    } else {
      const int threads = 256;  // 8 rows per block
      int64_t blocks = (outer + 7) / 8;
      if (blocks > kMaxGrid) blocks = kMaxGrid;
      reduce_rows_warp<Op, In, Out><<<static_cast<unsigned>(blocks), threads, 0, s>>>(x, out, outer, r);
    }
  } else {
    int64_t blocks = outer * ((inner + 31) / 32);
    if (blocks > kMaxGrid) blocks = kMaxGrid;
    reduce_cols<Op, In, Out><<<static_cast<unsigned>(blocks), dim3(32, kColRows), 0, s>>>(x, out, outer, r, inner);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t reduce_cuda(int op, const void* x, void* out, int64_t outer, int64_t r, int64_t inner, int inDtype,
                        cudaStream_t s) {
  if (outer <= 0 || inner <= 0) return cudaSuccess;
  const bool f = inDtype == kF32;
  switch (op) {
    case kSum:
      return f ? launch<SumD<float, float>, float, float>(x, out, outer, r, inner, s)
               : launch<SumI, int32_t, int32_t>(x, out, outer, r, inner, s);
    case kMean:
      return f ? launch<MeanD, float, float>(x, out, outer, r, inner, s)
               : launch<MeanD, int32_t, float>(x, out, outer, r, inner, s);
    case kMax:
      return f ? launch<ExtF<true>, float, float>(x, out, outer, r, inner, s)
               : launch<ExtI<true>, int32_t, int32_t>(x, out, outer, r, inner, s);
    case kMin:
      return f ? launch<ExtF<false>, float, float>(x, out, outer, r, inner, s)
               : launch<ExtI<false>, int32_t, int32_t>(x, out, outer, r, inner, s);
    case kProd:
      return f ? launch<ProdD, float, float>(x, out, outer, r, inner, s)
               : launch<ProdI, int32_t, int32_t>(x, out, outer, r, inner, s);
    case kArgMax:
      return f ? launch<ArgExt<float, true>, float, int32_t>(x, out, outer, r, inner, s)
               : launch<ArgExt<int32_t, true>, int32_t, int32_t>(x, out, outer, r, inner, s);
    case kArgMin:
      return f ? launch<ArgExt<float, false>, float, int32_t>(x, out, outer, r, inner, s)
               : launch<ArgExt<int32_t, false>, int32_t, int32_t>(x, out, outer, r, inner, s);
    case kAny:
      return launch<Logic<false>, int32_t, int32_t>(x, out, outer, r, inner, s);
    case kAll:
      return launch<Logic<true>, int32_t, int32_t>(x, out, outer, r, inner, s);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace dilemma::gpu
