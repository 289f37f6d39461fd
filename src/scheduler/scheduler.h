// Scheduler: the queue and the instance workers of one model version. One
// worker thread per instance takes the next batch from the BatchQueue when
// its instance is free and runs it through a BatchExecutor. Rejections
// (queue full, timeouts, cancellation) complete at once with an error.
// Enqueue is thread-safe and never blocks on execution.
#ifndef SERVAL_SCHEDULER_SCHEDULER_H_
#define SERVAL_SCHEDULER_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "backend/host_batch.h"
#include "common/clock.h"
#include "metrics/model_metrics.h"
#include "metrics/model_statistics.h"
#include "scheduler/batch_queue.h"
#include "scheduler/pending_request.h"

namespace serval {

// Executes batches on numbered instances. Execute is called by the worker
// of `instance` only, one batch at a time, and returns once the batch is
// complete, having written each request's response.outputs on success.
class BatchExecutor {
 public:
  virtual ~BatchExecutor() = default;
  virtual size_t instance_count() const = 0;
  virtual BatchResult Execute(size_t instance, std::span<PendingPtr> batch) = 0;
};

class Scheduler {
 public:
  // `stats` must outlive the scheduler; `clock` too, and `metrics` unless
  // null (null: Prometheus recording is off).
  Scheduler(SchedulerOptions options, std::unique_ptr<BatchExecutor> executor,
            StatisticsRecorder* stats, const Clock* clock = Clock::Real(),
            ModelMetrics* metrics = nullptr);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Admits the request or hands it back to its owner at once with an error.
  // The request must have an owner.
  void Enqueue(PendingPtr request);

  // Refuses new requests, runs what is queued, and joins the workers.
  void Stop();

  size_t QueueSize() const;
  // What the queue decides from now, for metrics: its depth, the batch
  // size it aims for, the budget in force and a new request's predicted
  // wait (BatchQueue).
  struct State {
    size_t queued = 0;
    int64_t batch_limit = 0;
    uint64_t budget_ns = 0;
    uint64_t predicted_wait_ns = 0;
  };
  State CurrentState() const;
  // Whether Enqueue would refuse any request now, whatever its priority
  // (every level full or over the queue budget); lets a frontend refuse
  // before decoding a large body. Advisory: the queue may change right
  // after.
  bool Overloaded() const;
  // How long a request without a priority would wait now before its batch
  // starts (BatchQueue::PredictedWaitNs); takes the lock: for refusals.
  uint64_t PredictedWaitNs() const;
  // Requests admitted and not yet completed (queued or executing).
  size_t InFlight() const;

 private:
  void WorkerLoop(size_t instance) ABSL_LOCKS_EXCLUDED(mu_);
  void RunBatch(size_t instance, std::vector<PendingPtr> batch)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Finish(PendingPtr request, RequestOutcome outcome)
      ABSL_LOCKS_EXCLUDED(mu_, order_mu_);
  static void Deliver(PendingPtr request);

  const std::string name_;
  const bool preserve_ordering_;
  std::unique_ptr<BatchExecutor> executor_;
  StatisticsRecorder* stats_;
  ModelMetrics* const metrics_;
  const Clock* clock_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  BatchQueue queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<size_t> in_flight_{0};
  // Mirrors queue_.RefusesEveryLevel() after every queue change, so the
  // per-request admission check (Overloaded) takes no lock.
  std::atomic<bool> overloaded_{false};

  // preserve_ordering: completed requests wait here for their turn.
  absl::Mutex order_mu_;
  std::map<uint64_t, PendingPtr> completed_ ABSL_GUARDED_BY(order_mu_);
  uint64_t next_to_deliver_ ABSL_GUARDED_BY(order_mu_) = 0;

  std::vector<std::thread> workers_;
};

}  // namespace serval

#endif  // SERVAL_SCHEDULER_SCHEDULER_H_
