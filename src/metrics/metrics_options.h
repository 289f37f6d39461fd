// Process-wide metrics settings, chosen once by `serval serve` before any
// model loads (each model version reads them when it is created). Set
// before other threads start; read-only afterwards, so reads need no lock.
#ifndef SERVAL_METRICS_METRICS_OPTIONS_H_
#define SERVAL_METRICS_METRICS_OPTIONS_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace serval {

struct MetricsOptions {
  // Off: model versions record nothing and no endpoint is served.
  bool enabled = true;
  // Upper bounds, in seconds, of every latency histogram.
  std::vector<double> latency_buckets_s = DefaultLatencyBuckets();
  // Upper bounds of the batch-size histogram (items per execution).
  std::vector<double> batch_size_buckets = DefaultBatchSizeBuckets();

  static std::vector<double> DefaultLatencyBuckets();
  static std::vector<double> DefaultBatchSizeBuckets();
};

// Parses "0.0001,0.001,0.01": positive, strictly ascending, finite.
absl::StatusOr<std::vector<double>> ParseBuckets(std::string_view text);

void SetProcessMetricsOptions(MetricsOptions options);
const MetricsOptions& ProcessMetricsOptions();

}  // namespace serval

#endif  // SERVAL_METRICS_METRICS_OPTIONS_H_
