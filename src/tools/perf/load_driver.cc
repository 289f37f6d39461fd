#include "tools/perf/load_driver.h"

#include <algorithm>
#include <chrono>

namespace serval::perf {

void Recorder::Add(Sample s) {
  absl::MutexLock lock(&mu_);
  samples_.push_back(std::move(s));
}

std::vector<Sample> Recorder::Take() {
  std::vector<Sample> out;
  absl::MutexLock lock(&mu_);
  out.swap(samples_);
  samples_.reserve(out.size());
  return out;
}

int64_t Recorder::Pending() {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(samples_.size());
}

void InFlight::Begin() {
  std::lock_guard<std::mutex> lock(mu_);
  ++count_;
}

void InFlight::End() {
  // Under the lock: a waiter cannot see zero (and destroy the driver) before
  // this thread is done with the members.
  std::lock_guard<std::mutex> lock(mu_);
  if (--count_ == 0) zero_.notify_all();
}

bool InFlight::WaitZero(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return zero_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [this] { return count_ == 0; });
}

ClosedLoopDriver::ClosedLoopDriver(Transport* transport, int concurrency,
                                   std::shared_ptr<Recorder> recorder)
    : concurrency_(concurrency), shared_(std::make_shared<Shared>()) {
  shared_->transport = transport;
  shared_->recorder = std::move(recorder);
}

void ClosedLoopDriver::Start() {
  shared_->running = true;
  for (int i = 0; i < concurrency_; ++i) Issue(shared_);
}

void ClosedLoopDriver::Issue(const std::shared_ptr<Shared>& shared) {
  shared->in_flight.Begin();
  const int64_t start = NowNs();
  shared->transport->AsyncInfer([shared, start](Outcome o) {
    shared->recorder->Add(
        {o.end_ns - start, o.send_ns, o.recv_ns, 0, std::move(o.error)});
    // Issue the successor before ending this one so the count never dips
    // to zero while the loop is still running.
    if (shared->running.load()) Issue(shared);
    shared->in_flight.End();
  });
}

bool ClosedLoopDriver::Stop(int64_t drain_ms) {
  shared_->running = false;
  shared_->transport->CancelQueued();
  return shared_->in_flight.WaitZero(drain_ms);
}

void OpenLoopDriver::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  generator_ = std::thread([this] { Generate(); });
}

void OpenLoopDriver::Generate() {
  const auto origin = std::chrono::steady_clock::now();
  const int64_t origin_ns = NowNs();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const int64_t offset = schedule_.Next();
    wake_.wait_until(lock, origin + std::chrono::nanoseconds(offset),
                     [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    // Late wake-ups (a busy machine) send at once, still timed from the
    // schedule: the delay is the client's, but a real user would have waited.
    const int64_t scheduled = origin_ns + offset;
    in_flight_->Begin();
    transport_->AsyncInfer(
        [recorder = recorder_, in_flight = in_flight_, scheduled](Outcome o) {
          recorder->Add({o.end_ns - scheduled, o.send_ns, o.recv_ns,
                         std::max<int64_t>(0, o.start_ns - scheduled),
                         std::move(o.error)});
          in_flight->End();
        });
    lock.lock();
  }
}

bool OpenLoopDriver::Stop(int64_t drain_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (generator_.joinable()) generator_.join();
  transport_->CancelQueued();
  return in_flight_->WaitZero(drain_ms);
}

}  // namespace serval::perf
