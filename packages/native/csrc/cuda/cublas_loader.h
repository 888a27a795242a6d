// cuBLAS reached at run time (dlopen), not at link time: our CPU machines have nvcc but no
// cuBLAS, and one .node must load everywhere. The future `cuda` backend calls sgemm through
// these few declared entry points; where the library is absent it gets a clear error instead.
#pragma once

#include <string>

namespace dilemma::cublas {

// Opaque handle and the status / operation codes we use (values from cublas_api.h, stable ABI).
using Handle = struct cublasContext*;
enum Status : int { kSuccess = 0 };
enum Operation : int { kOpN = 0, kOpT = 1 };

struct Api {
  Status (*create)(Handle*);
  Status (*destroy)(Handle);
  Status (*getVersion)(Handle, int*);
  Status (*sgemm)(Handle, Operation, Operation, int, int, int, const float*, const float*, int,
                  const float*, int, const float*, float*, int);
};

struct LoadResult {
  const Api* api;       // nullptr when cuBLAS could not be loaded
  std::string library;  // the file that was opened, or the names tried
  std::string error;    // why it failed, with what to do
};

// Loads libcublas once (DILEMMA_CUBLAS overrides the file name); thread-safe, cached.
const LoadResult& Load();

}  // namespace dilemma::cublas
