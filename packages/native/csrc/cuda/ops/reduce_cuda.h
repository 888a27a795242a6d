// Launchers of the reduction kernels (reduce.cu) on device pointers; no N-API here so .cu files
// can include it. CPU reference and semantics: reduce.cc. All launches are asynchronous on
// `stream` and return the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dilemma::gpu {

/**
 * out[o, i] = op over j < r of x[o, j, i] for x viewed as [outer, r, inner]. `op` is a REDUCE
 * code (src/cuda/addon.ts), `inDtype` a DType (bool reads as int32). Output element type:
 * Sum/Max/Min/Prod keep float32 / int32, Mean is float32, ArgMax/ArgMin int32, Any/All bool.
 */
cudaError_t reduce_cuda(int op, const void* x, void* out, int64_t outer, int64_t r, int64_t inner, int inDtype,
                        cudaStream_t stream);

}  // namespace dilemma::gpu
