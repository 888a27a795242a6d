// cuBLAS reached at run time (dlopen), not at link time: our CPU machines have nvcc but no
// cuBLAS, and one .node must load everywhere. The `cuda` backend calls GEMMs through these few
// declared entry points; where the library is absent it gets a clear error instead.
#pragma once

#include <string>

// cudaStream_t is `struct CUstream_st*` (driver_types.h); declared at global scope so that a
// cudaStream_t passes as is, without including the CUDA headers here (host-only builds).
struct CUstream_st;

namespace dilemma::cublas {

// Opaque handle and the enum values we use. No cuBLAS headers here: the values are the stable
// ABI of cublas_api.h / library_types.h (unchanged from CUDA 11 through 13).
using Handle = struct cublasContext*;
using Stream = ::CUstream_st*;
enum Status : int {
  kSuccess = 0,
  kNotInitialized = 1,
  kAllocFailed = 3,
  kInvalidValue = 7,
  kArchMismatch = 8,
  kMappingError = 11,
  kExecutionFailed = 13,
  kInternalError = 14,
  kNotSupported = 15,
  kLicenseError = 16,
};
enum Operation : int { kOpN = 0, kOpT = 1 };
// cublasMath_t: the default mode; precision is chosen per call by the compute type instead.
enum Math : int { kDefaultMath = 0 };
// cudaDataType_t (library_types.h).
enum DataType : int { kR32F = 0 };
// cublasComputeType_t: fp32 storage in and out, accumulation in fp32; the FAST variants let the
// multiply inputs be rounded to TF32 / bf16 for tensor cores.
enum ComputeType : int { kCompute32F = 68, kCompute32FFast16BF = 75, kCompute32FFastTF32 = 77 };
// cublasGemmAlgo_t: let cuBLAS pick (tensor cores too, when the compute type allows them).
enum GemmAlgo : int { kGemmDefault = -1 };

struct Api {
  Status (*create)(Handle*);
  Status (*destroy)(Handle);
  Status (*getVersion)(Handle, int*);
  Status (*sgemm)(Handle, Operation, Operation, int, int, int, const float*, const float*, int,
                  const float*, int, const float*, float*, int);
  Status (*setStream)(Handle, Stream);
  Status (*setMathMode)(Handle, Math);
  // C = alpha op(A) op(B) + beta C, column-major; alpha/beta point to host floats (the default
  // pointer mode) for the 32F compute types.
  Status (*gemmEx)(Handle, Operation transa, Operation transb, int m, int n, int k, const void* alpha,
                   const void* A, DataType Atype, int lda, const void* B, DataType Btype, int ldb,
                   const void* beta, void* C, DataType Ctype, int ldc, ComputeType computeType, GemmAlgo algo);
  // The same for batchCount products; matrix i is at A + i * strideA (elements; 0 = shared).
  Status (*gemmStridedBatchedEx)(Handle, Operation transa, Operation transb, int m, int n, int k,
                                 const void* alpha, const void* A, DataType Atype, int lda, long long strideA,
                                 const void* B, DataType Btype, int ldb, long long strideB, const void* beta,
                                 void* C, DataType Ctype, int ldc, long long strideC, int batchCount,
                                 ComputeType computeType, GemmAlgo algo);
};

struct LoadResult {
  const Api* api;       // nullptr when cuBLAS could not be loaded
  std::string library;  // the file that was opened, or the names tried
  std::string error;    // why it failed, with what to do
};

// Loads libcublas once (DILEMMA_CUBLAS overrides the file name); thread-safe, cached.
const LoadResult& Load();

// "CUBLAS_STATUS_INVALID_VALUE (7)" etc., for error messages.
std::string StatusName(int status);

}  // namespace dilemma::cublas
