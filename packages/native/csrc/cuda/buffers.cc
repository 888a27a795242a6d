// The buffer table: ids are indices (0 = none), recycled through a free list.
#include "cuda/buffers.h"

#include <vector>

namespace dilemma::gpu {
namespace {

std::vector<Buf> g_bufs(1);
std::vector<bool> g_live(1, false);
std::vector<int64_t> g_freeIds;
BufStats g_stats;

}  // namespace

Buf* FindBuf(int64_t id) {
  if (id <= 0 || id >= static_cast<int64_t>(g_bufs.size()) || !g_live[id]) return nullptr;
  return &g_bufs[id];
}

int64_t AddBuf(const Buf& b) {
  int64_t id;
  if (!g_freeIds.empty()) {
    id = g_freeIds.back();
    g_freeIds.pop_back();
  } else {
    id = static_cast<int64_t>(g_bufs.size());
    g_bufs.emplace_back();
    g_live.push_back(false);
  }
  g_bufs[id] = b;
  g_live[id] = true;
  g_stats.allocated += b.bytes;
  if (g_stats.allocated > g_stats.peak) g_stats.peak = g_stats.allocated;
  ++g_stats.live;
  return id;
}

void DropBuf(int64_t id) {
  g_stats.allocated -= g_bufs[id].bytes;
  --g_stats.live;
  g_bufs[id] = Buf{};
  g_live[id] = false;
  g_freeIds.push_back(id);
}

const BufStats& BufferStats() { return g_stats; }

}  // namespace dilemma::gpu
