// Runs destructions off the threads that trigger them. A model version's
// last handle may be dropped by one of its own scheduler workers (it
// delivers the last response); destroying the version there would join that
// thread from itself. The reaper thread does it instead. Thread-safe.
#ifndef SERVAL_LIFECYCLE_REAPER_H_
#define SERVAL_LIFECYCLE_REAPER_H_

#include <deque>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace serval {

class Reaper {
 public:
  // The process-wide reaper; its thread lives as long as the process.
  static Reaper& Get();

  void Post(std::function<void()> task);
  // Returns once every task posted before the call has run.
  void Drain();

 private:
  Reaper();
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  uint64_t posted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_REAPER_H_
