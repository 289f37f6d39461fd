// ModelMetrics: the Prometheus counters and histograms of one model
// version, recorded by its scheduler (and by the server for requests that
// fail validation). Recording is relaxed atomic adds only: no lock, no
// allocation. Thread-safe; owned by the ModelVersion, read at scrape time.
#ifndef SERVAL_METRICS_MODEL_METRICS_H_
#define SERVAL_METRICS_MODEL_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "metrics/histogram.h"
#include "metrics/metrics_options.h"

namespace serval {

// How a request ended. Failure reasons are exported as the `reason` label.
enum class RequestOutcome {
  kSuccess,
  kQueueFull,    // rejected: the queue of its priority level was full
  kTimeout,      // dropped: its deadline passed or could not be met
  kCancelled,    // dropped: the client went away before execution
  kBackend,      // the backend failed the batch
  kInvalid,      // refused: bad input, or a priority out of range
  kUnavailable,  // refused or drained: the model is unloading
};
inline constexpr size_t kRequestOutcomeCount = 7;
// "success", "queue_full", "timeout", ...
std::string_view RequestOutcomeName(RequestOutcome outcome);

struct RequestTimes {
  uint64_t request_ns = 0;  // enqueue to completion
  uint64_t queue_ns = 0;
  uint64_t compute_input_ns = 0;
  uint64_t compute_infer_ns = 0;
  uint64_t compute_output_ns = 0;
  bool executed = false;  // reached a backend (queue/compute times are set)
};

class ModelMetrics {
 public:
  explicit ModelMetrics(const MetricsOptions& options);

  void RecordRequest(RequestOutcome outcome, const RequestTimes& times);
  // One backend execution of `items` batch items.
  void RecordExecution(uint64_t items);

  uint64_t requests(RequestOutcome outcome) const {
    return outcomes_[static_cast<size_t>(outcome)].load(
        std::memory_order_relaxed);
  }
  uint64_t inferences() const {
    return inferences_.load(std::memory_order_relaxed);
  }
  uint64_t executions() const {
    return executions_.load(std::memory_order_relaxed);
  }
  const Histogram& request_duration() const { return request_; }
  const Histogram& queue_duration() const { return queue_; }
  const Histogram& compute_input_duration() const { return input_; }
  const Histogram& compute_infer_duration() const { return infer_; }
  const Histogram& compute_output_duration() const { return output_; }
  const Histogram& batch_size() const { return batch_size_; }

 private:
  std::array<std::atomic<uint64_t>, kRequestOutcomeCount> outcomes_{};
  std::atomic<uint64_t> inferences_{0};
  std::atomic<uint64_t> executions_{0};
  Histogram request_, queue_, input_, infer_, output_, batch_size_;
};

}  // namespace serval

#endif  // SERVAL_METRICS_MODEL_METRICS_H_
