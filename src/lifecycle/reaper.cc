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
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
    ++posted_;
  }
  cv_.notify_all();
}

void Reaper::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = posted_;
  cv_.wait(lock, [&] { return done_ >= target; });
}

void Reaper::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return !tasks_.empty(); });
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;
    lock.lock();
    ++done_;
    cv_.notify_all();
  }
}

}  // namespace serval
