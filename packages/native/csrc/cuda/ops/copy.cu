// CUDA strided copy (serves gpu.transpose and gpu.stridedCopy); CPU reference: copy.cc, which
// also merges the axes before calling here.
//   Tiled path: the destination is contiguous along the last axis L while the source is
//   contiguous along another axis P (a real transpose). A 32 x 32 tile is read with threads
//   along P (coalesced in src), goes through shared memory (padded to 33 columns: no bank
//   conflicts on the transposed read) and is written with threads along L (coalesced in dst).
//   The other axes are a batch, one per grid z (grid-stride).
//   General path: one thread per element, grid-stride, index decoded from the shape. Writes are
//   coalesced whenever dst is contiguous along the last axis (e.g. slices, concats, perm
//   [0, 2, 1, 3] after merging).
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops/copy_cuda.h"

namespace dilemma::gpu {
namespace {

constexpr int kTile = 32;
constexpr int kTileRows = 8;  // block (32, 8): each thread moves 4 elements of a tile
constexpr int64_t kMaxGrid = 65535 * 16;

// Index decode in 32 bits when the element count and every offset fit (unsigned division is far
// cheaper than 64-bit); offsets stay signed (strides may be negative).
template <class U, class S>
__global__ void copy_general(const uint32_t* __restrict__ src, uint32_t* __restrict__ dst, CopyDims dims,
                             int64_t size) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < size;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    U rem = static_cast<U>(e);
    S so = 0, dof = 0;
    for (int d = dims.rank - 1; d >= 0; --d) {
      const U n = static_cast<U>(dims.shape[d]);
      const U q = rem / n;
      const S i = static_cast<S>(rem - q * n);
      rem = q;
      so += i * static_cast<S>(dims.src[d]);
      dof += i * static_cast<S>(dims.dst[d]);
    }
    dst[dof] = src[so];
  }
}

// Batch axes of the tiled path: every merged axis except P and L.
struct Batch {
  int rank = 0;
  int64_t shape[8] = {}, src[8] = {}, dst[8] = {};
};

__global__ void __launch_bounds__(kTile* kTileRows)
    copy_tiled(const uint32_t* __restrict__ src, uint32_t* __restrict__ dst, Batch batch, int64_t batchSize,
               int64_t nP, int64_t nL, int64_t srcL, int64_t dstP) {
  __shared__ uint32_t tile[kTile][kTile + 1];  // tile[l - l0][p - p0]
  const int64_t l0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t p0 = static_cast<int64_t>(blockIdx.y) * kTile;
  for (int64_t b = blockIdx.z; b < batchSize; b += gridDim.z) {  // block-uniform
    int64_t rem = b, so = 0, dof = 0;
    for (int d = batch.rank - 1; d >= 0; --d) {
      const int64_t n = batch.shape[d];
      const int64_t i = rem % n;
      rem /= n;
      so += i * batch.src[d];
      dof += i * batch.dst[d];
    }
    {  // read: threadIdx.x along P (src stride 1)
      const int64_t p = p0 + threadIdx.x;
      for (int k = threadIdx.y; k < kTile; k += kTileRows) {
        const int64_t l = l0 + k;
        if (p < nP && l < nL) tile[k][threadIdx.x] = src[so + p + l * srcL];
      }
    }
    __syncthreads();
    {  // write: threadIdx.x along L (dst stride 1)
      const int64_t l = l0 + threadIdx.x;
      for (int k = threadIdx.y; k < kTile; k += kTileRows) {
        const int64_t p = p0 + k;
        if (p < nP && l < nL) dst[dof + p * dstP + l] = tile[threadIdx.x][k];
      }
    }
    __syncthreads();  // the tile is refilled for the next batch entry
  }
}

}  // namespace

cudaError_t strided_copy_cuda(const uint32_t* src, uint32_t* dst, const CopyDims& dims, cudaStream_t stream) {
  int64_t size = 1;
  for (int d = 0; d < dims.rank; ++d) size *= dims.shape[d];
  if (size <= 0) return cudaSuccess;
  const int R = dims.rank;
  // Tiled transpose: dst contiguous along the last axis, src not, and src contiguous along P.
  int P = -1;
  if (R >= 2 && dims.dst[R - 1] == 1 && dims.src[R - 1] != 1) {
    for (int d = 0; d < R - 1; ++d)
      if (dims.src[d] == 1) P = d;
  }
  if (P >= 0) {
    const int64_t nP = dims.shape[P], nL = dims.shape[R - 1];
    const int64_t tilesL = (nL + kTile - 1) / kTile, tilesP = (nP + kTile - 1) / kTile;
    if (nP >= 8 && nL >= 8 && tilesP <= 65535 && tilesL <= 0x7fffffff) {
      Batch batch;
      for (int d = 0; d < R - 1; ++d) {
        if (d == P) continue;
        batch.shape[batch.rank] = dims.shape[d];
        batch.src[batch.rank] = dims.src[d];
        batch.dst[batch.rank] = dims.dst[d];
        ++batch.rank;
      }
      const int64_t batchSize = size / (nP * nL);
      const dim3 grid(static_cast<unsigned>(tilesL), static_cast<unsigned>(tilesP),
                      static_cast<unsigned>(batchSize < 65535 ? batchSize : 65535));
      copy_tiled<<<grid, dim3(kTile, kTileRows), 0, stream>>>(src, dst, batch, batchSize, nP, nL, dims.src[R - 1],
                                                              dims.dst[P]);
      return cudaGetLastError();
    }
  }
  const int threads = 256;
  int64_t blocks = (size + threads - 1) / threads;
  if (blocks > kMaxGrid) blocks = kMaxGrid;
  int64_t reach = 0;  // largest |offset| on either side
  for (int d = 0; d < R; ++d) {
    const int64_t s = dims.src[d] < 0 ? -dims.src[d] : dims.src[d], t = dims.dst[d] < 0 ? -dims.dst[d] : dims.dst[d];
    reach += (dims.shape[d] - 1) * (s > t ? s : t);
  }
  if (size <= INT32_MAX && reach <= INT32_MAX)
    copy_general<uint32_t, int32_t><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(src, dst, dims, size);
  else
    copy_general<uint64_t, int64_t><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(src, dst, dims, size);
  return cudaGetLastError();
}

}  // namespace dilemma::gpu
