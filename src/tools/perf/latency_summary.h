// Order statistics of request latencies: what every perf step reports.
// Pure functions, no state; safe from any thread.
#ifndef SERVAL_TOOLS_PERF_LATENCY_SUMMARY_H_
#define SERVAL_TOOLS_PERF_LATENCY_SUMMARY_H_

#include <cstdint>
#include <vector>

namespace serval::perf {

struct LatencySummary {
  int64_t count = 0;
  double avg_ns = 0;
  int64_t p50_ns = 0;
  int64_t p90_ns = 0;
  int64_t p95_ns = 0;
  int64_t p99_ns = 0;
  int64_t max_ns = 0;
};

// Nearest-rank percentile (the smallest sample with at least q% of the
// samples at or below it) of an ascending-sorted vector; 0 when empty.
// Nearest-rank never reports a latency no request had.
int64_t Percentile(const std::vector<int64_t>& sorted, double q);

// Sorts `latencies_ns` in place and summarizes it.
LatencySummary Summarize(std::vector<int64_t>& latencies_ns);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_LATENCY_SUMMARY_H_
