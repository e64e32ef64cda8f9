#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace qarm {
namespace {

int default_threads() {
  if (const char* env = std::getenv("QARM_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

thread_local bool tls_in_parallel = false;

// Workers pull chunk indices from a shared counter; which thread runs which chunk varies,
// but each chunk's work is fixed, so results do not depend on scheduling.
class Pool {
 public:
  explicit Pool(int threads) { resize(threads); }
  ~Pool() { stop_all(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Waits for any running job, so the pool never changes size under one.
  void resize(int threads) {
    std::lock_guard<std::mutex> run_guard(run_mutex_);
    stop_all();
    stopping_ = false;
    // New workers must not mistake the last finished job for a new one.
    const uint64_t current = generation_;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, current] { worker_loop(current); });
  }

  void run(int64_t num_chunks, const std::function<void(int64_t)>& fn) {
    std::lock_guard<std::mutex> run_guard(run_mutex_);
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &fn;
      total_ = num_chunks;
      next_.store(0);
      pending_workers_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    work_on_job(fn, num_chunks);
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return pending_workers_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work_on_job(const std::function<void(int64_t)>& fn, int64_t total) {
    tls_in_parallel = true;
    for (;;) {
      int64_t i = next_.fetch_add(1);
      if (i >= total) break;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
        next_.store(total);
      }
    }
    tls_in_parallel = false;
  }

  void worker_loop(uint64_t seen) {
    for (;;) {
      const std::function<void(int64_t)>* job;
      int64_t total;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        job = job_;
        total = total_;
      }
      work_on_job(*job, total);
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (--pending_workers_ == 0) done_cv_.notify_all();
      }
    }
  }

  void stop_all() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t total_ = 0;
  std::atomic<int64_t> next_{0};
  int pending_workers_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

std::mutex g_pool_mutex;
std::unique_ptr<Pool> g_pool;

Pool& pool() {
  std::lock_guard<std::mutex> lk(g_pool_mutex);
  if (!g_pool) g_pool = std::make_unique<Pool>(default_threads());
  return *g_pool;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  if (n <= 0) n = default_threads();
  Pool& p = pool();
  if (p.size() != n) p.resize(n);
}

void parallel_chunks(int64_t num_chunks, const std::function<void(int64_t)>& fn) {
  if (num_chunks <= 0) return;
  if (num_chunks == 1 || tls_in_parallel) {
    for (int64_t i = 0; i < num_chunks; ++i) fn(i);
    return;
  }
  Pool& p = pool();
  if (p.size() == 1) {
    for (int64_t i = 0; i < num_chunks; ++i) fn(i);
    return;
  }
  p.run(num_chunks, fn);
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = (n + grain - 1) / grain;
  parallel_chunks(chunks, [&](int64_t c) {
    int64_t b = c * grain;
    fn(b, std::min(n, b + grain));
  });
}

}  // namespace qarm
