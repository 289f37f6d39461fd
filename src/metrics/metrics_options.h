// Metrics settings, chosen once by `serval serve` and handed to whatever
// records (each model version copies them when it is created). Plain data.
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

}  // namespace serval

#endif  // SERVAL_METRICS_METRICS_OPTIONS_H_
