#include "metrics/model_metrics.h"

namespace serval {
namespace {
constexpr double kNanosecond = 1e-9;
}  // namespace

std::string_view RequestOutcomeName(RequestOutcome outcome) {
  switch (outcome) {
    case RequestOutcome::kSuccess:
      return "success";
    case RequestOutcome::kQueueFull:
      return "queue_full";
    case RequestOutcome::kTimeout:
      return "timeout";
    case RequestOutcome::kCancelled:
      return "cancelled";
    case RequestOutcome::kBackend:
      return "backend";
    case RequestOutcome::kInvalid:
      return "invalid";
    case RequestOutcome::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

ModelMetrics::ModelMetrics(const MetricsOptions& options)
    : request_(options.latency_buckets_s, kNanosecond),
      queue_(options.latency_buckets_s, kNanosecond),
      input_(options.latency_buckets_s, kNanosecond),
      infer_(options.latency_buckets_s, kNanosecond),
      output_(options.latency_buckets_s, kNanosecond),
      batch_size_(options.batch_size_buckets, 1.0) {}

void ModelMetrics::RecordRequest(RequestOutcome outcome,
                                 const RequestTimes& times) {
  outcomes_[static_cast<size_t>(outcome)].fetch_add(1,
                                                    std::memory_order_relaxed);
  request_.Observe(times.request_ns);
  if (!times.executed) return;
  queue_.Observe(times.queue_ns);
  input_.Observe(times.compute_input_ns);
  infer_.Observe(times.compute_infer_ns);
  output_.Observe(times.compute_output_ns);
}

void ModelMetrics::RecordExecution(uint64_t items) {
  inferences_.fetch_add(items, std::memory_order_relaxed);
  executions_.fetch_add(1, std::memory_order_relaxed);
  batch_size_.Observe(items);
}

}  // namespace serval
