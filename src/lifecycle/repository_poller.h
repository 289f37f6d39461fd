// Poll mode (--model-control-mode=poll): rescans the repositories every
// interval and reloads a model whose files changed, loads a new one, and
// unloads one that disappeared. A change is acted on only once the model's
// fingerprint (names, sizes, mtimes; repository/model_fingerprint.h) is the
// same on two consecutive polls, so a version directory still being copied
// is not loaded half-written. Reloads go through ModelManager (hot swap; a
// failed reload keeps the old versions). Owns one thread; Start/Stop are
// called by one owner thread.
#ifndef SERVAL_LIFECYCLE_REPOSITORY_POLLER_H_
#define SERVAL_LIFECYCLE_REPOSITORY_POLLER_H_

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "lifecycle/model_manager.h"
#include "repository/model_fingerprint.h"

namespace serval {

class RepositoryPoller {
 public:
  // `manager` must outlive the poller.
  RepositoryPoller(ModelManager* manager, std::chrono::milliseconds interval);
  ~RepositoryPoller();
  RepositoryPoller(const RepositoryPoller&) = delete;
  RepositoryPoller& operator=(const RepositoryPoller&) = delete;

  // Takes the repository as it is now as the loaded state. Call right
  // before the start-up load, so a change made during it is seen later.
  void Prime();
  void Start();
  // Waits for a poll in progress (and the reload it runs) to finish.
  void Stop();

  // One scan and what follows from it; the thread calls it every interval.
  void PollOnce();

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  ModelManager* const manager_;
  const std::chrono::milliseconds interval_;
  // Used by PollOnce only, which runs on one thread at a time.
  ChangeDebouncer debouncer_;
  std::set<std::string> known_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_REPOSITORY_POLLER_H_
