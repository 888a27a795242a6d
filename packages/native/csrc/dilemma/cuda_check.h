// Device check of the DILEMMA CUDA kernels against their CPU references (plain C++ types so the
// N-API binding does not need CUDA headers). Implemented in cuda_check.cu.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dilemma {

struct CudaCheckOptions {
  int B = 256, L = 196, K = 49, D = 384;
  double p = 0.2;
  uint64_t seed = 0;
  uint32_t step = 0;
  int reps = 50;
};

struct CudaCheckRow {
  std::string kernel;
  double maxAbsErr = 0;   // vs the CPU reference (NaN if the output has NaN: outputs are poisoned first)
  int64_t mismatches = 0; // elements differing by more than the tolerance (exact for integer outputs)
  double us = 0;          // median of reps, cudaEvent timed, one launch sequence per rep
  double bytes = 0;       // byte model (pytorch_bench.py); 0 where none applies
};

struct CudaCheckResult {
  std::string device;
  int ccMajor = 0, ccMinor = 0;
  double copyGBps = 0;  // cudaMemcpy D2D, 256 MiB, (read + write) bytes / median time
  bool boundsErrorDetected = false;
  std::vector<CudaCheckRow> rows;
};

/** "" on success, else why (starts with "no CUDA device" when there is none). */
std::string cuda_dilemma_check(const CudaCheckOptions& opt, CudaCheckResult* res);

}  // namespace dilemma
