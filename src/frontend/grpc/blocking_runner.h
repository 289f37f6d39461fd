// Runs calls that may block for long (model load and unload) on one
// dedicated thread, in arrival order, so they never hold a gRPC callback
// thread. Thread-safe. Stop() runs what is queued, then joins; calls posted
// after Stop() run inline on the caller.
#ifndef SERVAL_FRONTEND_GRPC_BLOCKING_RUNNER_H_
#define SERVAL_FRONTEND_GRPC_BLOCKING_RUNNER_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace serval {

class BlockingRunner {
 public:
  BlockingRunner();
  ~BlockingRunner();
  BlockingRunner(const BlockingRunner&) = delete;
  BlockingRunner& operator=(const BlockingRunner&) = delete;

  void Post(std::function<void()> call);
  // Idempotent.
  void Stop();

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> calls_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_BLOCKING_RUNNER_H_
