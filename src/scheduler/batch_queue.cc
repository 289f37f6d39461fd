#include "scheduler/batch_queue.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_map.h"

namespace serval {

BatchQueue::BatchQueue(SchedulerOptions options)
    : options_(std::move(options)), profile_(options_.max_batch_size) {
  if (options_.levels.empty()) options_.levels.push_back(QueuePolicy{128});
  levels_.resize(options_.levels.size());
  level_items_.assign(options_.levels.size(), 0);
}

uint64_t BatchQueue::DeadlineFor(const PendingRequest& r,
                                 const QueuePolicy& policy,
                                 uint64_t now_ns) const {
  // A request may shorten the model's default timeout; lengthening it
  // needs allow_timeout_override. With no default, the request's own
  // timeout applies.
  uint64_t timeout_us = policy.default_timeout_us;
  const uint64_t asked = r.request.timeout_us;
  if (asked > 0) {
    if (timeout_us == 0 || asked < timeout_us ||
        policy.allow_timeout_override) {
      timeout_us = asked;
    }
  }
  if (timeout_us == 0) return 0;
  return now_ns + timeout_us * 1000;
}

int64_t BatchQueue::BatchLimit() const {
  if (!options_.dynamic_batching) return 1;
  if (options_.latency_target_ns == 0) return options_.max_batch_size;
  return profile_.LargestWithin(options_.latency_target_ns / 2,
                                options_.max_batch_size);
}

uint64_t BatchQueue::BudgetNs() const {
  if (options_.queue_budget_ns > 0) return options_.queue_budget_ns;
  if (!options_.auto_queue_budget || profile_.empty()) return 0;
  return SchedulerOptions::DefaultBudgetNs(profile_.EstimateNs(BatchLimit()));
}

uint64_t BatchQueue::WaitBehind(size_t requests, int64_t items,
                                int64_t own_items, bool upper) const {
  if (profile_.empty()) return 0;
  const size_t instances = std::max<size_t>(1, options_.instances);
  const int64_t per_batch = BatchLimit();
  const uint64_t batch_ns =
      upper ? profile_.UpperNs(per_batch) : profile_.EstimateNs(per_batch);
  // With every instance busy, a request first waits for one to finish:
  // the first expected to end.
  uint64_t running = 0;
  if (running_.size() >= instances) {
    uint64_t end = UINT64_MAX;
    for (const Running& b : running_) {
      end = std::min(end, upper ? b.upper_end_ns : b.end_ns);
    }
    running = end > now_ns_ ? end - now_ns_ : 0;
  }
  if (requests == 0) return running;
  // Without dynamic batching every request is a batch of its own.
  const int64_t batches =
      options_.dynamic_batching
          ? (items + std::max<int64_t>(1, own_items) + per_batch - 1) /
                per_batch
          : static_cast<int64_t>(requests) + 1;
  const uint64_t rounds = static_cast<uint64_t>(batches - 1) / instances;
  return running + rounds * batch_ns;
}

uint64_t BatchQueue::OwnBatchNs(int64_t items, int64_t own_items,
                                bool upper) const {
  own_items = std::max<int64_t>(1, own_items);
  const int64_t size =
      options_.dynamic_batching
          ? std::min(BatchLimit(), items % BatchLimit() + own_items)
          : own_items;
  return upper ? profile_.UpperNs(size) : profile_.EstimateNs(size);
}

uint64_t BatchQueue::FinishNs(size_t requests, int64_t items,
                              int64_t own_items) const {
  return WaitBehind(requests, items, own_items, /*upper=*/true) +
         OwnBatchNs(items, own_items, /*upper=*/true);
}

bool BatchQueue::Idle(size_t requests) const {
  return requests == 0 &&
         running_.size() < std::max<size_t>(1, options_.instances);
}

bool BatchQueue::OverBudget(size_t requests, int64_t items,
                            int64_t own_items) const {
  if (profile_.empty() || Idle(requests)) return false;
  if (const uint64_t budget = BudgetNs(); budget > 0) {
    // The default bounds the predicted completion; a configured budget
    // (Triton's queue timeout, queue_budget_ms) the wait.
    const uint64_t wait = WaitBehind(requests, items, own_items);
    const uint64_t bounded =
        DefaultBudget() ? wait + OwnBatchNs(items, own_items) : wait;
    if (bounded > budget) return true;
  }
  return options_.latency_target_ns > 0 &&
         FinishNs(requests, items, own_items) > options_.latency_target_ns;
}

void BatchQueue::CountItems(const std::deque<PendingPtr>* q, int64_t items) {
  // Only batching needs the items; otherwise the count says it all. The
  // DELAYed queue is behind every level and counts for none.
  if (!options_.dynamic_batching) return;
  for (size_t l = 0; l < levels_.size(); ++l) {
    if (q == &levels_[l]) level_items_[l] += items;
  }
}

uint64_t BatchQueue::PredictedWaitNs(uint32_t level, int64_t items) const {
  if (profile_.empty()) return 0;
  size_t requests = 0;
  int64_t ahead = 0;
  for (uint32_t l = 0; l <= level && l < levels_.size(); ++l) {
    requests += levels_[l].size();
    ahead += level_items_[l];
  }
  return WaitBehind(requests, ahead, items);
}

bool BatchQueue::RefusesEveryLevel() const {
  // A level refuses when it is full or its predicted wait is over the
  // budget; one pass, the work ahead accumulating level by level.
  const bool timed =
      !profile_.empty() && (BudgetNs() > 0 || options_.latency_target_ns > 0);
  size_t requests = 0;
  int64_t ahead = 0;
  for (uint32_t l = 0; l < levels_.size(); ++l) {
    const bool full = levels_[l].size() >= options_.levels[l].max_queue_size;
    if (timed) {
      requests += levels_[l].size();
      ahead += level_items_[l];
    }
    const bool late = timed && OverBudget(requests, ahead, 1);
    if (!full && !late) return false;
  }
  return true;
}

namespace {

// UNAVAILABLE with how long the queued work should take to drain.
absl::Status Refused(std::string message, uint64_t drain_ns) {
  absl::Status s = absl::UnavailableError(std::move(message));
  SetRetryAfter(
      &s, std::max<uint64_t>(1, (drain_ns + 999'999'999) / 1'000'000'000));
  return s;
}

}  // namespace

PendingPtr BatchQueue::Add(PendingPtr r, uint64_t now_ns,
                           absl::Status* rejected, Refusal* why) {
  Refusal ignored;
  if (why == nullptr) why = &ignored;
  now_ns_ = std::max(now_ns_, now_ns);
  *why = Refusal::kNone;
  uint32_t level = options_.default_level;
  if (r->request.priority > 0) {
    if (r->request.priority > options_.levels.size()) {
      *rejected = absl::InvalidArgumentError(absl::StrCat(
          "priority ", r->request.priority, " is out of range: model '",
          r->request.model_name, "' has ", options_.levels.size(),
          " priority level(s); 1 is the highest"));
      *why = Refusal::kInvalid;
      return r;
    }
    level = r->request.priority - 1;
  }
  const QueuePolicy& policy = options_.levels[level];
  if (levels_[level].size() >= policy.max_queue_size) {
    *rejected = absl::UnavailableError(absl::StrCat(
        "model '", r->request.model_name,
        "' is overloaded: its queue is full (", policy.max_queue_size,
        " requests at priority level ", level + 1, "); retry later"));
    *why = Refusal::kQueueFull;
    return r;
  }
  const uint64_t deadline = DeadlineFor(*r, policy, now_ns);
  // Refused now rather than dropped later: what cannot start within the
  // budget, finish within the latency target, or finish by its deadline,
  // behind the work queued ahead.
  if (!profile_.empty()) {
    size_t requests = 0;
    int64_t ahead = 0;
    for (uint32_t l = 0; l <= level; ++l) {
      requests += levels_[l].size();
      ahead += level_items_[l];
    }
    const uint64_t wait = WaitBehind(requests, ahead, r->batch_size);
    const uint64_t own = OwnBatchNs(ahead, r->batch_size);
    // Nothing ahead and an instance free: the request runs at once, and
    // refusing it would help no one (and, with no execution to learn
    // from, could keep a model refusing on one slow batch forever).
    const uint64_t budget = Idle(requests) ? 0 : BudgetNs();
    if (budget > 0 && DefaultBudget() && wait + own > budget) {
      *why = Refusal::kOverBudget;
      *rejected = Refused(
          absl::StrCat("model '", r->request.model_name,
                       "' is overloaded: a request now would finish in about ",
                       (wait + own) / 1000000,
                       " ms, over its default budget of ", budget / 1000000,
                       " ms (three executions of a full batch; parameters "
                       "queue_budget_ms and latency_target_ms set others); "
                       "retry later"),
          wait);
      return r;
    }
    if (budget > 0 && !DefaultBudget() && wait > budget) {
      *why = Refusal::kOverBudget;
      *rejected = Refused(
          absl::StrCat("model '", r->request.model_name,
                       "' is overloaded: a request now would wait about ",
                       wait / 1000000, " ms, over its queue budget of ",
                       budget / 1000000, " ms; retry later"),
          wait);
      return r;
    }
    const uint64_t finish = options_.latency_target_ns > 0 && !Idle(requests)
                                ? FinishNs(requests, ahead, r->batch_size)
                                : 0;
    if (finish > options_.latency_target_ns) {
      *why = Refusal::kOverBudget;
      *rejected =
          Refused(absl::StrCat(
                      "model '", r->request.model_name,
                      "' is overloaded: a request now would finish in about ",
                      finish / 1000000,
                      " ms, over its latency target "
                      "of ",
                      options_.latency_target_ns / 1000000, " ms; retry later"),
                  wait);
      return r;
    }
    if (deadline != 0 && now_ns + wait + own > deadline) {
      *why = Refusal::kDeadline;
      *rejected = Refused(
          absl::StrCat(
              "request deadline cannot be met: ", (deadline - now_ns) / 1000,
              " us left, model '", r->request.model_name,
              "' would start in about ", wait / 1000, " us and takes about ",
              own / 1000, " us to execute"),
          wait);
      return r;
    }
  }
  if (last_arrival_ns_ != 0 && now_ns >= last_arrival_ns_) {
    const uint64_t gap = now_ns - last_arrival_ns_;
    arrival_gap_ns_ =
        arrival_gap_ns_ == 0 ? gap : (arrival_gap_ns_ * 7 + gap) / 8;
  }
  last_arrival_ns_ = now_ns;
  r->level = level;
  r->sequence = next_sequence_++;
  r->enqueue_ns = now_ns;
  r->deadline_ns = deadline;
  if (r->deadline_ns != 0) ++with_deadline_;
  CountItems(&levels_[level], r->batch_size);
  levels_[level].push_back(std::move(r));
  ++size_;
  return nullptr;
}

void BatchQueue::Purge(uint64_t now_ns, std::vector<PendingPtr>* dropped) {
  if (with_deadline_ == 0) return;
  for (size_t l = 0; l < levels_.size(); ++l) {
    auto& q = levels_[l];
    for (auto it = q.begin(); it != q.end();) {
      PendingRequest& r = **it;
      if (r.deadline_ns == 0 || now_ns < r.deadline_ns) {
        ++it;
        continue;
      }
      --with_deadline_;
      CountItems(&q, -r.batch_size);
      if (options_.levels[l].timeout_action == TimeoutAction::kDelay) {
        // Triton's DELAY: the request stays, behind every request that is
        // still within its timeout.
        r.deadline_ns = 0;
        delayed_.push_back(std::move(*it));
      } else {
        r.response.status = absl::UnavailableError(absl::StrCat(
            "request timed out after ", (now_ns - r.enqueue_ns) / 1000,
            " us in the queue of model '", r.request.model_name, "'"));
        dropped->push_back(std::move(*it));
        --size_;
      }
      it = q.erase(it);
    }
  }
}

bool BatchQueue::PreferredSizeReached(int64_t total,
                                      bool more_could_join) const {
  const auto& p = options_.preferred_batch_sizes;
  if (p.empty()) return false;
  if (total >= p.back()) return true;
  return !more_could_join && std::find(p.begin(), p.end(), total) != p.end();
}

BatchQueue::Decision BatchQueue::Next(uint64_t now_ns, bool flush) {
  Decision d;
  now_ns_ = std::max(now_ns_, now_ns);
  Purge(now_ns, &d.dropped);

  // Every queue in service order: levels by priority, then DELAYed ones.
  std::vector<std::deque<PendingPtr>*> order;
  for (auto& q : levels_) order.push_back(&q);
  order.push_back(&delayed_);

  const bool batching = options_.max_batch_size > 0;
  const bool adaptive = options_.latency_target_ns > 0 &&
                        options_.dynamic_batching && !profile_.empty();
  const int64_t max_batch = batching ? BatchLimit() : 1;
  struct Taken {
    PendingPtr request;
    std::deque<PendingPtr>* from;
  };
  std::vector<Taken> taken;
  int64_t total = 0;
  bool blocked = false;  // the next request cannot join this batch
  for (auto* q : order) {
    while (!q->empty() && !blocked) {
      PendingRequest& r = *q->front();
      if (r.request.cancellation && r.request.cancellation->IsCancelled()) {
        r.response.status = absl::CancelledError(
            "request cancelled by the client before execution");
        if (r.deadline_ns) --with_deadline_;
        CountItems(q, -r.batch_size);
        d.dropped.push_back(std::move(q->front()));
        q->pop_front();
        --size_;
        continue;
      }
      const uint64_t run_ns = profile_.EstimateNs(total + r.batch_size);
      if (r.deadline_ns != 0 && now_ns + run_ns > r.deadline_ns) {
        r.response.status = absl::UnavailableError(absl::StrCat(
            "request deadline cannot be met: ", (r.deadline_ns - now_ns) / 1000,
            " us left, model '", r.request.model_name, "' takes about ",
            run_ns / 1000, " us to execute"));
        --with_deadline_;
        CountItems(q, -r.batch_size);
        d.dropped.push_back(std::move(q->front()));
        q->pop_front();
        --size_;
        continue;
      }
      if (!taken.empty()) {
        const bool fits = options_.dynamic_batching &&
                          total + r.batch_size <= max_batch &&
                          CompatibleShapes(*taken.front().request, r, batching);
        if (!fits) {
          blocked = true;
          break;
        }
      }
      total += r.batch_size;
      CountItems(q, -r.batch_size);
      taken.push_back({std::move(q->front()), q});
      q->pop_front();
      if (!options_.dynamic_batching || total >= max_batch) blocked = true;
    }
    if (blocked) break;
  }
  if (taken.empty()) {
    d.wake_at_ns = 0;
    return d;
  }

  bool send =
      flush || !options_.dynamic_batching || blocked || total >= max_batch;
  const uint64_t oldest = taken.front().request->enqueue_ns;
  uint64_t delay_end = oldest + options_.max_queue_delay_ns;
  if (!send && adaptive) {
    // A request alone is sent at once, so a quiet model pays nothing.
    // Requests that queued up while every instance was busy show load:
    // then the batch may wait for more, while they keep arriving at
    // their recent pace (up to two gaps after the last), and never past
    // the moment its oldest request would miss the target.
    const uint64_t run_ns = profile_.EstimateNs(max_batch);
    const uint64_t last_start =
        oldest + options_.latency_target_ns -
        std::min(options_.latency_target_ns, run_ns + run_ns / 4);
    delay_end = std::min(last_start, last_arrival_ns_ + 2 * arrival_gap_ns_);
    send = taken.size() < 2 || arrival_gap_ns_ == 0 || now_ns >= delay_end;
  } else if (!send) {
    if (!options_.preferred_batch_sizes.empty()) {
      send = PreferredSizeReached(total, /*more_could_join=*/false) ||
             now_ns >= delay_end;
    } else {
      send = options_.max_queue_delay_ns == 0 || now_ns >= delay_end;
    }
  }

  if (send) {
    for (auto& t : taken) {
      if (t.request->deadline_ns) --with_deadline_;
      d.batch.push_back(std::move(t.request));
    }
    size_ -= d.batch.size();
    running_.push_back({now_ns + profile_.EstimateNs(total),
                        now_ns + profile_.UpperNs(total)});
    return d;
  }
  // Not yet: put the requests back where they were, in order.
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
    CountItems(it->from, it->request->batch_size);
    it->from->push_front(std::move(it->request));
  }
  d.wake_at_ns = delay_end;
  if (with_deadline_ > 0) {
    for (auto& q : levels_) {
      for (auto& r : q) {
        if (r->deadline_ns)
          d.wake_at_ns = std::min(d.wake_at_ns, r->deadline_ns);
      }
    }
  }
  return d;
}

void BatchQueue::RecordExecution(int64_t items, uint64_t duration_ns) {
  profile_.Record(items, duration_ns);
  if (!running_.empty()) running_.pop_front();
}

std::vector<PendingPtr> BatchQueue::DrainAll(const absl::Status& status) {
  std::vector<PendingPtr> out;
  for (auto& q : levels_) {
    for (auto& r : q) out.push_back(std::move(r));
    q.clear();
  }
  for (auto& r : delayed_) out.push_back(std::move(r));
  delayed_.clear();
  for (auto& r : out) r->response.status = status;
  size_ = 0;
  with_deadline_ = 0;
  std::fill(level_items_.begin(), level_items_.end(), 0);
  return out;
}

}  // namespace serval
