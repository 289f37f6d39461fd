#include "common/executor.h"

#include <algorithm>
#include <utility>

#include "common/thread_name.h"

namespace serval {

ThreadPool::ThreadPool(int threads, std::string name) {
  threads_.reserve(std::max(1, threads));
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this, name] {
      SetCurrentThreadName(name);
      Loop();
    });
  }
}

ThreadPool::~ThreadPool() { Shutdown(); }

void ThreadPool::Post(Task task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      ++posted_;
      return;
    }
  }
  std::move(task)();
}

void ThreadPool::Drain() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = posted_;
  auto reached = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return done_ >= target;
  };
  mu_.Await(absl::Condition(&reached));
}

void ThreadPool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ThreadPool::Loop() {
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !tasks_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    std::move(task)();
    absl::MutexLock lock(&mu_);
    ++done_;
  }
}

absl::Status RunAndWait(Executor& executor,
                        absl::AnyInvocable<absl::Status() &&> task) {
  std::vector<absl::AnyInvocable<absl::Status() &&>> tasks;
  tasks.push_back(std::move(task));
  return RunAllAndWait(executor, std::move(tasks)).front();
}

std::vector<absl::Status> RunAllAndWait(
    Executor& executor,
    std::vector<absl::AnyInvocable<absl::Status() &&>> tasks) {
  std::vector<absl::Status> statuses(tasks.size());
  absl::Mutex mu;
  size_t left = tasks.size();
  for (size_t i = 0; i < tasks.size(); ++i) {
    executor.Post([&, i, task = std::move(tasks[i])]() mutable {
      absl::Status s = std::move(task)();
      absl::MutexLock lock(&mu);
      statuses[i] = std::move(s);
      --left;
    });
  }
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](size_t* n) { return *n == 0; }, &left));
  return statuses;
}

}  // namespace serval
