#include "scheduler/scheduler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"

namespace serval {

Scheduler::Scheduler(SchedulerOptions options,
                     std::unique_ptr<BatchExecutor> executor,
                     StatisticsRecorder* stats, const Clock* clock,
                     ModelMetrics* metrics)
    : name_(options.name),
      preserve_ordering_(options.preserve_ordering),
      executor_(std::move(executor)),
      stats_(stats),
      metrics_(metrics),
      clock_(clock),
      queue_(std::move(options)) {
  const size_t n = executor_->instance_count();
  workers_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // "<model>/<instance>", the model name cut so the index survives the
    // 15-character limit.
    std::string name = absl::StrCat(name_.substr(0, 11), "/", i);
    workers_.emplace_back([this, i, name = std::move(name)] {
      SetCurrentThreadName(name);
      WorkerLoop(i);
    });
  }
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Enqueue(PendingPtr request) {
  absl::Status rejected;
  RequestOutcome outcome = RequestOutcome::kUnavailable;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      rejected = absl::UnavailableError(
          absl::StrCat("model '", request->request.model_name,
                       "' is shutting down and accepts no new requests"));
    } else {
      Refusal why = Refusal::kNone;
      request =
          queue_.Add(std::move(request), clock_->NowNs(), &rejected, &why);
      overloaded_.store(queue_.RefusesEveryLevel(), std::memory_order_relaxed);
      if (request == nullptr) in_flight_.fetch_add(1);
      // A request that could not finish by its deadline counts as a
      // timeout, refused before it waited; the rest as a full queue.
      outcome = why == Refusal::kInvalid    ? RequestOutcome::kInvalid
                : why == Refusal::kDeadline ? RequestOutcome::kTimeout
                                            : RequestOutcome::kQueueFull;
    }
  }
  if (request == nullptr) {
    cv_.Signal();
    return;
  }
  // Never admitted, so it has no place in the delivery order.
  request->response.status = std::move(rejected);
  stats_->RecordFailure(0);
  if (metrics_) metrics_->RecordRequest(outcome, RequestTimes{});
  Deliver(std::move(request));
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  cv_.SignalAll();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  // With no workers (no instances), whatever is queued fails.
  std::vector<PendingPtr> left;
  {
    absl::MutexLock lock(&mu_);
    left = queue_.DrainAll(absl::UnavailableError("model is unloading"));
    overloaded_.store(false, std::memory_order_relaxed);
  }
  for (auto& r : left) Finish(std::move(r), RequestOutcome::kUnavailable);
}

size_t Scheduler::QueueSize() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

Scheduler::State Scheduler::CurrentState() const {
  absl::MutexLock lock(&mu_);
  return {queue_.size(), queue_.BatchLimit(), queue_.BudgetNs(),
          queue_.PredictedWaitNs(queue_.options().default_level, 1)};
}

bool Scheduler::Overloaded() const {
  return overloaded_.load(std::memory_order_relaxed);
}

size_t Scheduler::InFlight() const { return in_flight_.load(); }

uint64_t Scheduler::PredictedWaitNs() const {
  absl::MutexLock lock(&mu_);
  return queue_.PredictedWaitNs(queue_.options().default_level, 1);
}

void Scheduler::WorkerLoop(size_t instance) {
  mu_.Lock();
  while (true) {
    if (stopping_ && queue_.size() == 0) break;
    BatchQueue::Decision d = queue_.Next(clock_->NowNs(), stopping_);
    overloaded_.store(queue_.RefusesEveryLevel(), std::memory_order_relaxed);
    if (!d.dropped.empty()) {
      mu_.Unlock();
      for (auto& r : d.dropped) {
        const RequestOutcome why =
            r->response.status.code() == absl::StatusCode::kCancelled
                ? RequestOutcome::kCancelled
                : RequestOutcome::kTimeout;
        Finish(std::move(r), why);
      }
      mu_.Lock();
    }
    if (d.batch.empty()) {
      if (!d.dropped.empty()) continue;
      if (stopping_ && queue_.size() == 0) break;
      if (d.wake_at_ns != 0) {
        const uint64_t now = clock_->NowNs();
        const uint64_t wait = d.wake_at_ns > now ? d.wake_at_ns - now : 0;
        cv_.WaitWithTimeout(&mu_, absl::Nanoseconds(wait));
      } else {
        cv_.Wait(&mu_);
      }
      continue;
    }
    mu_.Unlock();
    // Another request may be waiting for a free instance.
    cv_.Signal();
    RunBatch(instance, std::move(d.batch));
    mu_.Lock();
  }
  mu_.Unlock();
}

void Scheduler::RunBatch(size_t instance, std::vector<PendingPtr> batch) {
  const uint64_t start = clock_->NowNs();
  int64_t items = 0;
  for (auto& r : batch) {
    r->response.timings.queue_ns = start - r->enqueue_ns;
    items += r->batch_size;
  }
  auto [status, times] =
      executor_->Execute(instance, std::span<PendingPtr>(batch));

  const uint64_t input_ns = times.input_end_ns - times.start_ns;
  const uint64_t infer_ns = times.infer_end_ns - times.input_end_ns;
  const uint64_t output_ns = times.end_ns - times.infer_end_ns;
  {
    absl::MutexLock lock(&mu_);
    queue_.RecordExecution(items, times.end_ns - times.start_ns);
    // Before any response goes out: a client answered now and sending its
    // next request at once must see the instance free, not the refusal
    // computed while this batch ran.
    overloaded_.store(queue_.RefusesEveryLevel(), std::memory_order_relaxed);
  }
  stats_->RecordExecution(items, input_ns, infer_ns, output_ns);
  if (metrics_) metrics_->RecordExecution(items);
  for (auto& r : batch) {
    // A batch that failed fails all its requests; one that succeeded keeps
    // the failures the backend gave single requests.
    if (!status.ok()) r->response.status = status;
    const RequestOutcome outcome = r->response.status.ok()
                                       ? RequestOutcome::kSuccess
                                       : RequestOutcome::kBackend;
    r->compute_start_ns = times.start_ns;
    r->compute_input_end_ns = times.input_end_ns;
    r->compute_output_start_ns = times.infer_end_ns;
    r->compute_end_ns = times.end_ns;
    r->response.timings.compute_input_ns = input_ns;
    r->response.timings.compute_infer_ns = infer_ns;
    r->response.timings.compute_output_ns = output_ns;
    Finish(std::move(r), outcome);
  }
}

void Scheduler::Finish(PendingPtr r, RequestOutcome outcome) {
  const uint64_t request_ns = clock_->NowNs() - r->enqueue_ns;
  const auto& t = r->response.timings;
  if (t.compute_infer_ns == 0 && !r->response.status.ok()) {
    stats_->RecordFailure(request_ns);  // never reached a backend
  } else {
    stats_->RecordRequest(r->response.status.ok(), request_ns, t.queue_ns,
                          t.compute_input_ns, t.compute_infer_ns,
                          t.compute_output_ns);
  }
  if (metrics_) {
    const bool executed = outcome == RequestOutcome::kSuccess ||
                          outcome == RequestOutcome::kBackend;
    metrics_->RecordRequest(
        outcome, {request_ns, t.queue_ns, t.compute_input_ns,
                  t.compute_infer_ns, t.compute_output_ns, executed});
  }
  in_flight_.fetch_sub(1);
  if (!preserve_ordering_) {
    Deliver(std::move(r));
    return;
  }
  // Hand out every response whose predecessors have all been delivered.
  // Delivery happens under the lock so two threads cannot reorder it;
  // callbacks never block (frontends post their writes).
  absl::MutexLock lock(&order_mu_);
  completed_.emplace(r->sequence, std::move(r));
  for (auto it = completed_.begin();
       it != completed_.end() && it->first == next_to_deliver_;
       it = completed_.erase(it)) {
    Deliver(std::move(it->second));
    ++next_to_deliver_;
  }
}

void Scheduler::Deliver(PendingPtr r) {
  RequestOwner* owner = r->owner;
  owner->Complete(std::move(r));
}

}  // namespace serval
