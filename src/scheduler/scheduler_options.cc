#include "scheduler/scheduler_options.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "scheduler/pending_request.h"

namespace serval {
namespace {

QueuePolicy PolicyFrom(const inference::ModelQueuePolicy& p,
                       size_t default_size) {
  QueuePolicy q;
  q.max_queue_size = p.max_queue_size() > 0
                         ? static_cast<size_t>(p.max_queue_size())
                         : default_size;
  q.default_timeout_us = p.default_timeout_microseconds();
  q.allow_timeout_override = p.allow_timeout_override();
  q.timeout_action = p.timeout_action() == inference::ModelQueuePolicy::DELAY
                         ? TimeoutAction::kDelay
                         : TimeoutAction::kReject;
  return q;
}

// Reads a parameter holding milliseconds; false when absent or not a
// number (the validator has refused those).
bool Milliseconds(const inference::ModelConfig& config, const std::string& key,
                  double* ms) {
  auto it = config.parameters().find(key);
  return it != config.parameters().end() &&
         absl::SimpleAtod(it->second.string_value(), ms) && *ms >= 0;
}

}  // namespace

uint64_t SchedulerOptions::DefaultBudgetNs(uint64_t full_batch_ns) {
  return std::max(kMinDefaultBudgetNs, 3 * full_batch_ns);
}

size_t SchedulerOptions::DefaultQueueSize(int32_t max_batch_size,
                                          size_t instances) {
  const size_t per_batch = static_cast<size_t>(std::max(1, max_batch_size));
  return std::max<size_t>(128, 4 * per_batch * std::max<size_t>(1, instances));
}

SchedulerOptions SchedulerOptions::FromConfig(
    const inference::ModelConfig& config, size_t instance_count) {
  SchedulerOptions o;
  o.name = config.name();
  o.max_batch_size = config.max_batch_size();
  o.instances = std::max<size_t>(1, instance_count);
  double target_ms = 0;
  if (Milliseconds(config, "latency_target_ms", &target_ms) && target_ms > 0) {
    o.latency_target_ns = static_cast<uint64_t>(target_ms * 1e6);
    o.auto_queue_budget = false;
  }
  double budget_ms = 0;
  if (Milliseconds(config, "queue_budget_ms", &budget_ms)) {
    o.queue_budget_ns = static_cast<uint64_t>(budget_ms * 1e6);
    o.auto_queue_budget = false;
  }
  const size_t default_size =
      DefaultQueueSize(o.max_batch_size, instance_count);
  if (!config.has_dynamic_batching()) {
    o.levels.push_back(PolicyFrom(inference::ModelQueuePolicy(), default_size));
    return o;
  }
  const auto& db = config.dynamic_batching();
  o.dynamic_batching = o.max_batch_size > 0;
  o.preferred_batch_sizes.assign(db.preferred_batch_size().begin(),
                                 db.preferred_batch_size().end());
  std::sort(o.preferred_batch_sizes.begin(), o.preferred_batch_sizes.end());
  o.max_queue_delay_ns = db.max_queue_delay_microseconds() * 1000;
  o.preserve_ordering = db.preserve_ordering();
  const uint32_t levels = std::max<uint32_t>(1, db.priority_levels());
  for (uint32_t l = 1; l <= levels; ++l) {
    auto it = db.priority_queue_policy().find(l);
    o.levels.push_back(PolicyFrom(it != db.priority_queue_policy().end()
                                      ? it->second
                                      : db.default_queue_policy(),
                                  default_size));
  }
  if (db.default_priority_level() >= 1 &&
      db.default_priority_level() <= levels) {
    o.default_level = db.default_priority_level() - 1;
  } else {
    // Triton's default for an unset default level is the lowest priority.
    o.default_level = db.priority_levels() > 0 ? levels - 1 : 0;
  }
  // Triton's bound on how long a request may queue is the budget.
  if (o.auto_queue_budget && o.levels[o.default_level].default_timeout_us) {
    o.queue_budget_ns = o.levels[o.default_level].default_timeout_us * 1000;
    o.auto_queue_budget = false;
  }
  return o;
}

bool CompatibleShapes(const PendingRequest& a, const PendingRequest& b,
                      bool batching) {
  const auto& ai = a.request.inputs;
  const auto& bi = b.request.inputs;
  if (ai.size() != bi.size()) return false;
  for (size_t i = 0; i < ai.size(); ++i) {
    // The same inputs: requests that leave out different optional inputs
    // never batch together.
    if (ai[i].name != bi[i].name) return false;
    const Shape& sa = ai[i].shape;
    const Shape& sb = bi[i].shape;
    if (sa.size() != sb.size()) return false;
    for (size_t d = batching ? 1 : 0; d < sa.size(); ++d) {
      if (sa[d] != sb[d]) return false;
    }
  }
  return true;
}

}  // namespace serval
