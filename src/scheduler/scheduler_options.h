// Scheduling parameters of one model version, derived from its config
// (dynamic_batching, max_batch_size, instance groups). Plain data.
#ifndef SERVAL_SCHEDULER_SCHEDULER_OPTIONS_H_
#define SERVAL_SCHEDULER_SCHEDULER_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/model_config.pb.h"

namespace serval {

enum class TimeoutAction { kReject, kDelay };

struct QueuePolicy {
  size_t max_queue_size = 0;        // always > 0 after FromConfig
  uint64_t default_timeout_us = 0;  // 0 = none
  bool allow_timeout_override = false;
  TimeoutAction timeout_action = TimeoutAction::kReject;
};

struct SchedulerOptions {
  // The model's name, for naming the worker threads.
  std::string name;
  int32_t max_batch_size = 0;
  bool dynamic_batching = false;
  std::vector<int64_t> preferred_batch_sizes;  // ascending
  uint64_t max_queue_delay_ns = 0;
  bool preserve_ordering = false;
  // One policy per priority level; index 0 is level 1 (the highest).
  std::vector<QueuePolicy> levels;
  uint32_t default_level = 0;  // index into levels
  // Instances serving the queue, for the predicted wait.
  size_t instances = 1;
  // Longest predicted wait admitted: parameter queue_budget_ms, else the
  // default level's default_timeout_microseconds (Triton's field for how
  // long a request may queue); 0 = none set.
  uint64_t queue_budget_ns = 0;
  // With no budget set: the budget follows the live profile
  // (DefaultBudgetNs); false when queue_budget_ms is "0" (only the count
  // bound and the deadlines apply) or a latency target governs.
  bool auto_queue_budget = true;
  // Parameter latency_target_ms (0 = off): batches are sized, and
  // requests admitted, so that a request's predicted completion stays
  // within it.
  uint64_t latency_target_ns = 0;

  // Default queue bound when the config sets none (or 0): enough for a few
  // full batches per instance, never fewer than 128 requests, so bursts are
  // absorbed but an overload fails fast instead of queueing without bound.
  static size_t DefaultQueueSize(int32_t max_batch_size, size_t instances);
  // The default budget, on a request's predicted completion, for a model
  // whose full batch takes `full_batch_ns`: three full batches (the one
  // running, a full one queued per instance, then its own: the instances
  // never idle, and a closed loop of twice the users that saturate is not
  // refused), and never under kMinDefaultBudgetNs, so that a fast model's
  // budget is not jitter.
  static uint64_t DefaultBudgetNs(uint64_t full_batch_ns);
  static constexpr uint64_t kMinDefaultBudgetNs = 250'000'000;

  static SchedulerOptions FromConfig(const inference::ModelConfig& config,
                                     size_t instance_count);
};

}  // namespace serval

#endif  // SERVAL_SCHEDULER_SCHEDULER_OPTIONS_H_
