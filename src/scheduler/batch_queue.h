// BatchQueue: the scheduling decisions of one model version, free of
// threads and real time so every rule is unit-tested with a fake clock.
// Bounded priority queues, timeouts (REJECT/DELAY), deadline-aware dropping,
// cancellation, and dynamic batch formation with Triton's semantics.
// Not thread-safe: the Scheduler calls it under its lock.
#ifndef SERVAL_SCHEDULER_BATCH_QUEUE_H_
#define SERVAL_SCHEDULER_BATCH_QUEUE_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/status/status.h"
#include "scheduler/execution_profile.h"
#include "scheduler/pending_request.h"
#include "scheduler/scheduler_options.h"

namespace serval {

// Why Add refused a request.
enum class Refusal { kNone, kInvalid, kQueueFull, kOverBudget, kDeadline };

class BatchQueue {
 public:
  explicit BatchQueue(SchedulerOptions options);

  // Admits a request at `now_ns`: assigns its level, sequence and deadline.
  // Returns the request back with UNAVAILABLE (the caller fails it at once)
  // when its level is full, when its predicted wait exceeds the queue
  // budget, or when it would finish after its deadline (request timeout or
  // default_timeout_microseconds) given the work queued ahead of it; such a
  // refusal carries a retry-after payload (RetryAfterSeconds); nullptr when
  // admitted.
  PendingPtr Add(PendingPtr request, uint64_t now_ns, absl::Status* rejected,
                 Refusal* why = nullptr);

  struct Decision {
    // Requests to execute now as one batch (empty when none).
    std::vector<PendingPtr> batch;
    // Requests to fail now; each has response.status set.
    std::vector<PendingPtr> dropped;
    // When batch is empty: the time to ask again even if nothing arrives
    // (0 = wait for an arrival).
    uint64_t wake_at_ns = 0;
  };

  // Called when an instance is free. Drops cancelled and expired requests,
  // then forms the next batch or says when to look again. `flush` sends a
  // partial batch at once (shutdown drains without waiting for delays).
  Decision Next(uint64_t now_ns, bool flush = false);

  // Feeds the execution profile (a batch of `items` took `duration_ns`)
  // behind every prediction, and marks one batch given by Next as done.
  void RecordExecution(int64_t items, uint64_t duration_ns);

  // Removes every queued request (shutdown), each with `status` set.
  std::vector<PendingPtr> DrainAll(const absl::Status& status);

  size_t size() const { return size_; }
  // True when a request would be refused right now whatever its priority:
  // every level is full or has a predicted wait over the queue budget. A
  // frontend can then refuse before parsing the body (where the priority
  // is).
  bool RefusesEveryLevel() const;
  // The wait a request of `items` at `level` would have before its batch
  // starts: the work queued at its level and above, in batches, spread
  // over the instances, at the live execution time per batch. 0 before
  // any batch ran (nothing to predict from) and for an empty queue.
  uint64_t PredictedWaitNs(uint32_t level, int64_t items) const;
  // The budget in force: the configured one (on the predicted wait), or
  // the default that follows the profile (on the predicted completion);
  // 0 when there is none (yet).
  uint64_t BudgetNs() const;
  bool DefaultBudget() const {
    return options_.queue_budget_ns == 0 && options_.auto_queue_budget;
  }
  // The batch size the queue aims for: max_batch_size, or under a latency
  // target the largest batch that fits twice into it (the one running
  // when a request arrives, then its own).
  int64_t BatchLimit() const;
  const SchedulerOptions& options() const { return options_; }

 private:
  uint64_t DeadlineFor(const PendingRequest& r, const QueuePolicy& policy,
                       uint64_t now_ns) const;
  void Purge(uint64_t now_ns, std::vector<PendingPtr>* dropped);
  bool PreferredSizeReached(int64_t total, bool more_could_join) const;
  // The wait behind `requests` queued requests holding `items` batch items,
  // for a request of `own_items`.
  // `upper`: with the likely upper execution times (for the latency
  // target, a bound that must hold) instead of the averages.
  uint64_t WaitBehind(size_t requests, int64_t items, int64_t own_items,
                      bool upper = false) const;
  // The execution of the batch a request of `own_items` joins behind
  // `items` queued items.
  uint64_t OwnBatchNs(int64_t items, int64_t own_items,
                      bool upper = false) const;
  // The likely latest completion of such a request, for the target.
  uint64_t FinishNs(size_t requests, int64_t items, int64_t own_items) const;
  // Whether such a request would be refused by the budget or the target;
  // never when it would run at once (Idle).
  bool OverBudget(size_t requests, int64_t items, int64_t own_items) const;
  // No request queued ahead and an instance free.
  bool Idle(size_t requests) const;
  // Keeps level_items_ in step as requests enter (+) or leave (-) `q`.
  void CountItems(const std::deque<PendingPtr>* q, int64_t items);

  SchedulerOptions options_;
  // One FIFO per priority level, then the queue of DELAYed requests which
  // run after every level.
  std::vector<std::deque<PendingPtr>> levels_;
  std::deque<PendingPtr> delayed_;
  // Batch items queued per level (0 without dynamic batching), kept as
  // requests come and go so that a prediction, made for every request,
  // does not walk the queue.
  std::vector<int64_t> level_items_;
  size_t size_ = 0;
  size_t with_deadline_ = 0;
  uint64_t next_sequence_ = 0;
  ExecutionProfile profile_;
  // Batches handed out by Next and not yet recorded as done: when each
  // should end, on average and at the likely latest; oldest first
  // (batches end roughly in the order they started; RecordExecution
  // retires the oldest).
  struct Running {
    uint64_t end_ns;
    uint64_t upper_end_ns;
  };
  std::deque<Running> running_;
  // The time of the last Add or Next: the predictions' "now".
  uint64_t now_ns_ = 0;
  // Admissions: the last one and a moving average of the gap between
  // them, for how soon a batch would fill.
  uint64_t last_arrival_ns_ = 0;
  uint64_t arrival_gap_ns_ = 0;
};

}  // namespace serval

#endif  // SERVAL_SCHEDULER_BATCH_QUEUE_H_
