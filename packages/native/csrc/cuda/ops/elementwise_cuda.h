// Launchers of the elementwise CUDA kernels (elementwise.cu), on device pointers, asynchronous
// on `stream`; each returns the launch status. No N-API here: elementwise.cc validates the
// arguments and holds the CPU references these kernels are checked against.
// Elements are 4 bytes (float32, int32, bool as int32 0/1); op and dtype codes are those of
// src/cuda/addon.ts (UNARY, BINARY, DTYPE).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/** Broadcast iteration space for binary/select: out is contiguous over `shape`; stride[k][d] is
 * operand k's element stride on axis d (0 on broadcast axes). rank 1..8 (elementwise.cc merges
 * axes first, so the common cases arrive as rank 1 with strides 0/1). */
struct EwDims {
  int rank;
  int64_t shape[8];
  int64_t stride[3][8];
};

/** out[0, n) = the 4-byte pattern `bits`. */
cudaError_t FillCuda(void* out, int64_t n, uint32_t bits, cudaStream_t stream);

/** out = cast of x; dtypes 0 float32, 1 int32, 2 bool (float32 -> int32 like JS ToInt32). */
cudaError_t CastCuda(const void* x, void* out, int64_t n, int from, int to, cudaStream_t stream);

/** out = op(x) (float32, or int32 -> bool for LogicalNot). false when `op` is unknown is the caller's check. */
cudaError_t UnaryCuda(int op, const void* x, void* out, int64_t n, double alpha, cudaStream_t stream);

/** out = op(a, b) over `d`; inDtype 0 float32, 1 int32/bool. */
cudaError_t BinaryCuda(int op, const void* a, const void* b, void* out, int64_t n, const EwDims& d, int inDtype,
                       cudaStream_t stream);

/** out = cond != 0 ? a : b over `d` (stride[0] cond, [1] a, [2] b). */
cudaError_t SelectCuda(const int32_t* cond, const void* a, const void* b, void* out, int64_t n, const EwDims& d,
                       cudaStream_t stream);

/** out = ((0 + in[0]) + in[1]) + ... (float32, summed in input order, like tfjs AddN). */
cudaError_t AddNCuda(float* out, const float* const* inputs, int count, int64_t n, cudaStream_t stream);

}  // namespace dilemma::gpu
