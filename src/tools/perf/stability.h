// The rule that ends a perf step: the last `windows` measurement windows
// agree, in throughput and in p99 latency, within a percentage of their
// mean. Pure function; safe from any thread.
#ifndef SERVAL_TOOLS_PERF_STABILITY_H_
#define SERVAL_TOOLS_PERF_STABILITY_H_

#include <cstdint>
#include <vector>

namespace serval::perf {

struct WindowFigures {
  double throughput = 0;  // successful requests per second
  int64_t p99_ns = 0;
};

// True when at least `windows` figures exist and, over the last `windows`
// of them, max - min of throughput and of p99 each stays within
// `percent`% of that figure's mean. A window without successes is never
// stable (nothing was measured).
bool IsStable(const std::vector<WindowFigures>& history, double percent,
              int windows = 3);

// (max - min) / mean of the throughput of the last `windows` figures, in
// percent: the spread reported beside the median.
double ThroughputSpreadPercent(const std::vector<WindowFigures>& history,
                               int windows = 3);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_STABILITY_H_
