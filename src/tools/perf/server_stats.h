// The server's own account of where time went: cumulative counters of the
// KServe/Triton statistics extension (`GET /v2/models/{m}/stats`, gRPC
// ModelStatistics), and the per-request breakdown between two snapshots.
// Plain values and pure functions; safe from any thread.
#ifndef SERVAL_TOOLS_PERF_SERVER_STATS_H_
#define SERVAL_TOOLS_PERF_SERVER_STATS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace serval::perf {

struct Duration {
  uint64_t count = 0;
  uint64_t ns = 0;
};

// Cumulative counters of one model version (summed over versions when the
// server reports several).
struct ServerStats {
  uint64_t inference_count = 0;
  uint64_t execution_count = 0;
  Duration success, fail, queue, compute_input, compute_infer, compute_output;

  ServerStats& operator+=(const ServerStats& o);
};

// What happened on the server between two snapshots, per request.
struct ServerBreakdown {
  bool valid = false;  // false: no statistics were available
  uint64_t requests = 0;
  double request_us = 0;  // server time from arrival to response
  double queue_us = 0;
  double compute_input_us = 0;
  double compute_infer_us = 0;
  double compute_output_us = 0;
  double avg_batch = 0;  // inferences per execution
};

// The counters that grew from `before` to `after`.
ServerStats Delta(const ServerStats& before, const ServerStats& after);
ServerBreakdown Breakdown(const ServerStats& delta);

// Parses a Triton-format statistics body
// (`{"model_stats":[{"inference_stats":{"queue":{"count":..,"ns":..}}}]}`).
absl::StatusOr<ServerStats> ParseStatsJson(std::string_view body);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_SERVER_STATS_H_
