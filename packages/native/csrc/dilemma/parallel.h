// Fork-join for the DILEMMA CPU kernels on the engine's persistent pool (engine/threadpool.h,
// size env DILEMMA_THREADS): split [0, n) only when each thread gets >= ~256 KiB of memory traffic,
// so small calls stay on the calling thread.
#pragma once
#include <algorithm>
#include <cstdint>

#include "engine/threadpool.h"

namespace dilemma {

/** Run fn(begin, end) over chunks of [0, n); `bytes` = memory traffic of the whole job. */
template <class Fn>
void parallel_for(int64_t n, int64_t bytes, Fn&& fn) {
  if (n <= 0) return;
  const int64_t perItem = std::max<int64_t>(1, bytes / n);
  const int64_t grain = std::max<int64_t>(1, (int64_t{256} * 1024 + perItem - 1) / perItem);
  ParallelFor(n, grain, [&fn](int64_t b, int64_t e) { fn(b, e); });
}

}  // namespace dilemma
