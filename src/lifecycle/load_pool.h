// A few threads that load model versions, so that loading (reading weights,
// creating instances, warm-up) never runs on an inference worker or an I/O
// thread. Callers that must wait for a load use RunAndWait; tasks must not
// wait on other pool tasks (that could exhaust the pool). Thread-safe.
#ifndef SERVAL_LIFECYCLE_LOAD_POOL_H_
#define SERVAL_LIFECYCLE_LOAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace serval {

class LoadPool {
 public:
  explicit LoadPool(int threads);
  // Runs the tasks already posted, then joins the threads.
  ~LoadPool();
  LoadPool(const LoadPool&) = delete;
  LoadPool& operator=(const LoadPool&) = delete;

  void Post(std::function<void()> task);
  // Runs `task` on a pool thread and blocks until it returns its status.
  absl::Status RunAndWait(std::function<absl::Status()> task);
  // Runs every task on the pool, in parallel as threads allow, and blocks
  // until all are done. Returns their statuses in the same order.
  std::vector<absl::Status> RunAllAndWait(
      std::vector<std::function<absl::Status()>> tasks);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_LOAD_POOL_H_
