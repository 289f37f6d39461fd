#include "lifecycle/reaper.h"

#include <thread>

namespace serval {

Reaper& Reaper::Get() {
  // Leaked on purpose: it must outlive every static that may drop a handle.
  static Reaper* reaper = new Reaper();
  return *reaper;
}

Reaper::Reaper() { std::thread([this] { Loop(); }).detach(); }

void Reaper::Post(std::function<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
    ++posted_;
  }
  cv_.SignalAll();
}

void Reaper::Drain() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = posted_;
  while (done_ < target) cv_.Wait(&mu_);
}

void Reaper::Loop() {
  mu_.Lock();
  while (true) {
    while (tasks_.empty()) cv_.Wait(&mu_);
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    mu_.Unlock();
    task();
    task = nullptr;
    mu_.Lock();
    ++done_;
    cv_.SignalAll();
  }
}

}  // namespace serval
