#include "engine/threadpool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace dilemma {
namespace {

// Set while a thread runs a pool task: nested ParallelFor calls then run inline (no deadlock).
thread_local bool tls_in_task = false;

class Pool {
 public:
  explicit Pool(int n) : n_(n) {
    for (int i = 1; i < n_; ++i) workers_.emplace_back([this, i] { Loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
      ++gen_;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return n_; }

  void Run(int chunks, const std::function<void(int)>& task) {
    // One job at a time: kernels are called from the JS thread only, but guard anyway.
    std::lock_guard<std::mutex> run_lock(run_mu_);
    {
      std::lock_guard<std::mutex> lk(mu_);
      task_ = &task;
      chunks_.store(chunks);
      next_.store(0);
      pending_.store(chunks);
      ++gen_;
    }
    cv_.notify_all();
    Work();
    // Spin briefly (chunks are short), then block.
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return pending_.load() == 0; });
    task_ = nullptr;
  }

 private:
  void Work() {
    for (;;) {
      int c = next_.fetch_add(1);
      if (c >= chunks_.load()) break;
      const bool was = tls_in_task;
      tls_in_task = true;
      (*task_)(c);
      tls_in_task = was;
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lk(mu_);
        done_cv_.notify_all();
      }
    }
  }
  void Loop(int) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return gen_ != seen; });
        seen = gen_;
        if (stop_) return;
        if (task_ == nullptr) continue;
      }
      Work();
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_, run_mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<int> chunks_{0};
  std::atomic<int> next_{0};
  std::atomic<int> pending_{0};
  uint64_t gen_ = 0;
  bool stop_ = false;
};

int ConfiguredThreads() {
  const char* env = std::getenv("DILEMMA_THREADS");
  if (env != nullptr) {
    int v = std::atoi(env);
    if (v > 0) return std::min(v, 256);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

Pool& GetPool() {
  static Pool* pool = new Pool(ConfiguredThreads());  // leaked on purpose: no join at exit
  return *pool;
}

}  // namespace

int NumThreads() { return GetPool().size(); }

void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  Pool& pool = GetPool();
  int64_t maxChunks = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  int chunks = static_cast<int>(std::min<int64_t>(pool.size(), maxChunks));
  if (chunks <= 1 || tls_in_task) {
    fn(0, n);
    return;
  }
  int64_t step = (n + chunks - 1) / chunks;
  pool.Run(chunks, [&](int c) {
    int64_t b = c * step, e = std::min(n, b + step);
    if (b < e) fn(b, e);
  });
}

}  // namespace dilemma
