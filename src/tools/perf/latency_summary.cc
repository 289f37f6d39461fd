#include "tools/perf/latency_summary.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace serval::perf {

int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  // ceil(q/100 * n) is the 1-based rank; clamp for q <= 0 and q >= 100.
  int64_t rank = static_cast<int64_t>(std::ceil(q / 100.0 * n - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(sorted.size()));
  return sorted[rank - 1];
}

LatencySummary Summarize(std::vector<int64_t>& latencies_ns) {
  LatencySummary s;
  if (latencies_ns.empty()) return s;
  std::sort(latencies_ns.begin(), latencies_ns.end());
  s.count = static_cast<int64_t>(latencies_ns.size());
  const long double sum =
      std::accumulate(latencies_ns.begin(), latencies_ns.end(), 0.0L);
  s.avg_ns = static_cast<double>(sum / s.count);
  s.p50_ns = Percentile(latencies_ns, 50);
  s.p90_ns = Percentile(latencies_ns, 90);
  s.p95_ns = Percentile(latencies_ns, 95);
  s.p99_ns = Percentile(latencies_ns, 99);
  s.max_ns = latencies_ns.back();
  return s;
}

}  // namespace serval::perf
