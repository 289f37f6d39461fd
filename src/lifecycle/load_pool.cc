#include "lifecycle/load_pool.h"

#include <algorithm>
#include <future>
#include <memory>
#include <utility>

namespace serval {

LoadPool::LoadPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

LoadPool::~LoadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (auto& t : threads_) t.join();
}

void LoadPool::Post(std::function<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.Signal();
}

absl::Status LoadPool::RunAndWait(std::function<absl::Status()> task) {
  return RunAllAndWait({std::move(task)}).front();
}

std::vector<absl::Status> LoadPool::RunAllAndWait(
    std::vector<std::function<absl::Status()>> tasks) {
  std::vector<std::future<absl::Status>> futures;
  futures.reserve(tasks.size());
  for (auto& task : tasks) {
    auto promise = std::make_shared<std::promise<absl::Status>>();
    futures.push_back(promise->get_future());
    Post([promise, task = std::move(task)] { promise->set_value(task()); });
  }
  std::vector<absl::Status> out;
  out.reserve(futures.size());
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

void LoadPool::Loop() {
  mu_.Lock();
  while (true) {
    while (!stopping_ && tasks_.empty()) cv_.Wait(&mu_);
    if (tasks_.empty()) break;  // stopping, and nothing left to run
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    mu_.Unlock();
    task();
    task = nullptr;
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace serval
