// Executors: where work that must not run on the calling thread goes (model
// loads, destruction of retired model versions, repository calls of the
// frontends). Classes take an Executor* so that tests can inject an
// InlineExecutor or a pool of their choosing.
#ifndef SERVAL_COMMON_EXECUTOR_H_
#define SERVAL_COMMON_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace serval {

using Task = absl::AnyInvocable<void() &&>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `task` once, some time later (or now, for InlineExecutor).
  // Thread-safe.
  virtual void Post(Task task) = 0;
};

// Runs every task on the calling thread, at once. For tests.
class InlineExecutor final : public Executor {
 public:
  void Post(Task task) override { std::move(task)(); }
};

// A fixed set of threads taking tasks in arrival order. Thread-safe.
// Shutdown (and the destructor) runs what is queued, then joins; a task
// posted after that runs inline on the caller, so nothing posted is lost.
class ThreadPool final : public Executor {
 public:
  // `name` names the threads (see thread_name.h).
  explicit ThreadPool(int threads, std::string name = "serval-pool");
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Post(Task task) override;
  // Returns once every task posted before the call has run. Must not be
  // called from one of the pool's own tasks.
  void Drain();
  // Idempotent.
  void Shutdown();

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t posted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

// Runs `task` on `executor` and blocks until it returns its status. Must not
// be called from a task of the same single-threaded executor.
absl::Status RunAndWait(Executor& executor,
                        absl::AnyInvocable<absl::Status() &&> task);

// Runs every task on `executor` (in parallel as its threads allow) and
// blocks until all are done; their statuses in the same order.
std::vector<absl::Status> RunAllAndWait(
    Executor& executor,
    std::vector<absl::AnyInvocable<absl::Status() &&>> tasks);

}  // namespace serval

#endif  // SERVAL_COMMON_EXECUTOR_H_
