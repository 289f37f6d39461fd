// What an overloaded server gave its clients, beyond throughput: the
// successes answered within a latency budget (goodput), the refusals a
// server sends on purpose under load (HTTP 503 and 429, gRPC UNAVAILABLE
// and RESOURCE_EXHAUSTED) with their own latency, and every other error.
// A fast refusal is a good answer under overload; a success after the
// budget is not. Pure functions; safe from any thread.
#ifndef SERVAL_TOOLS_PERF_GOODPUT_H_
#define SERVAL_TOOLS_PERF_GOODPUT_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "tools/perf/latency_summary.h"
#include "tools/perf/load_driver.h"

namespace serval::perf {

struct Outcomes {
  // Successes within the budget (every success when there is none).
  int64_t within_budget = 0;
  double goodput = 0;  // within_budget per second
  int64_t refusals = 0;
  LatencySummary refusal_latency;
  int64_t other_errors = 0;
};

// Whether a sample's error is a refusal (see above) rather than a failure.
bool IsRefusal(std::string_view error);

// `budget_ns` 0: no budget.
Outcomes CountOutcomes(const std::vector<const Sample*>& samples,
                       double seconds, int64_t budget_ns);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_GOODPUT_H_
