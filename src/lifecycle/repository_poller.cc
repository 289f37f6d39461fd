#include "lifecycle/repository_poller.h"

#include "common/absl_compat.h"
#include "common/thread_name.h"
#include "spdlog/spdlog.h"

namespace serval {

RepositoryPoller::RepositoryPoller(ModelManager* manager,
                                   std::chrono::milliseconds interval)
    : manager_(manager), interval_(interval) {}

RepositoryPoller::~RepositoryPoller() { Stop(); }

void RepositoryPoller::Prime() {
  auto scan = manager_->ScanWithFingerprints();
  if (!scan.ok()) return;
  for (const auto& model : scan->models) {
    debouncer_.Accept(model.name, model.fingerprint);
    known_.insert(model.name);
  }
}

void RepositoryPoller::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("repo-poll");
    Loop();
  });
}

void RepositoryPoller::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RepositoryPoller::Loop() {
  mu_.Lock();
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                               absl::FromChrono(interval_))) {
    mu_.Unlock();
    PollOnce();
    mu_.Lock();
  }
  mu_.Unlock();
}

void RepositoryPoller::PollOnce() {
  // One listing pass per repository: for an object store, one paginated
  // list of the bucket prefix, not a request per model or file.
  auto scan = manager_->ScanWithFingerprints();
  if (!scan.ok()) {
    spdlog::warn("repository poll: {}", ToStd(scan.status().message()));
    return;
  }
  std::set<std::string> present;
  for (const auto& problem : scan->problems) {
    // Perhaps mid-copy (no version directory yet): leave what is loaded.
    present.insert(problem.name);
  }
  for (const auto& model : scan->models) {
    present.insert(model.name);
    switch (debouncer_.Observe(model.name, model.fingerprint)) {
      case ChangeDebouncer::Verdict::kUnchanged:
        break;
      case ChangeDebouncer::Verdict::kSettling:
        spdlog::debug(
            "model '{}' is changing on disk; waiting for it to "
            "settle",
            model.name);
        break;
      case ChangeDebouncer::Verdict::kChanged: {
        const bool is_new = known_.insert(model.name).second;
        spdlog::info("model '{}' {} the repository; loading it", model.name,
                     is_new ? "appeared in" : "changed in");
        manager_->ReloadScanned(model).IgnoreError();  // logged, in Index()
        break;
      }
    }
  }
  for (auto it = known_.begin(); it != known_.end();) {
    if (present.count(*it) > 0) {
      ++it;
      continue;
    }
    spdlog::info("model '{}' was removed from the repository; unloading it",
                 *it);
    debouncer_.Forget(*it);
    manager_->UnloadRemoved(*it);
    it = known_.erase(it);
  }
}

}  // namespace serval
