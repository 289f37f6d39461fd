#include "frontend/grpc/blocking_runner.h"

#include <utility>

namespace serval {

BlockingRunner::BlockingRunner() : thread_([this] { Loop(); }) {}

BlockingRunner::~BlockingRunner() { Stop(); }

void BlockingRunner::Post(std::function<void()> call) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      calls_.push_back(std::move(call));
      return;
    }
  }
  call();
}

void BlockingRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void BlockingRunner::Loop() {
  while (true) {
    std::function<void()> call;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](BlockingRunner* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
            return r->stopping_ || !r->calls_.empty();
          },
          this));
      if (calls_.empty()) return;  // stopping, and nothing left to run
      call = std::move(calls_.front());
      calls_.pop_front();
    }
    call();
  }
}

}  // namespace serval
