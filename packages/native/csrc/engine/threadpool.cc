#include "engine/threadpool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
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
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->chunks = chunks;
    job->pending.store(chunks);
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = job;
      ++gen_;
    }
    cv_.notify_all();
    Work(*job);
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return job->pending.load() == 0; });
    job_.reset();
  }

 private:
  // A job's chunk counter lives with the job: a worker still leaving an earlier job (its last
  // claim past that job's end) can never claim a chunk of the next one. With shared counters it
  // could, when the next job has more chunks: that chunk then ran twice and the job's pending
  // count reached 0 while a chunk was still being written.
  struct Job {
    const std::function<void(int)>* task = nullptr;
    int chunks = 0;
    std::atomic<int> next{0};
    std::atomic<int> pending{0};
  };

  void Work(Job& job) {
    for (;;) {
      int c = job.next.fetch_add(1);
      if (c >= job.chunks) break;
      const bool was = tls_in_task;
      tls_in_task = true;
      (*job.task)(c);
      tls_in_task = was;
      if (job.pending.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lk(mu_);
        done_cv_.notify_all();
      }
    }
  }
  void Loop(int) {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return gen_ != seen; });
        seen = gen_;
        if (stop_) return;
        job = job_;
      }
      if (job) Work(*job);
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_, run_mu_;
  std::condition_variable cv_, done_cv_;
  std::shared_ptr<Job> job_;
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
