// A small persistent thread pool for the native engine's elementwise/reduction kernels.
// Size: env DILEMMA_THREADS, default = hardware cores. The calling thread takes part, so a
// pool of N threads keeps N-1 workers.
#pragma once
#include <cstdint>
#include <functional>

namespace dilemma {

/** Number of threads kernels may use (>= 1). */
int NumThreads();

/**
 * Runs fn(begin, end) over [0, n) split into contiguous chunks, in parallel when n is at least
 * `grain` per thread; otherwise inline. Blocks until all chunks finish.
 */
void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace dilemma
