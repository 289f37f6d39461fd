#include "tools/perf/stability.h"

#include <algorithm>

namespace serval::perf {
namespace {

// (max - min) / mean * 100 of the last n values; -1 when the mean is 0.
template <typename Get>
double SpreadPercent(const std::vector<WindowFigures>& h, int n, Get get) {
  double lo = get(h[h.size() - n]), hi = lo, sum = 0;
  for (size_t i = h.size() - n; i < h.size(); ++i) {
    const double v = get(h[i]);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  const double mean = sum / n;
  if (mean <= 0) return -1;
  return (hi - lo) / mean * 100.0;
}

}  // namespace

bool IsStable(const std::vector<WindowFigures>& history, double percent,
              int windows) {
  if (windows < 1 || static_cast<int>(history.size()) < windows) return false;
  for (size_t i = history.size() - windows; i < history.size(); ++i) {
    if (history[i].throughput <= 0) return false;
  }
  const double tput = SpreadPercent(
      history, windows, [](const WindowFigures& w) { return w.throughput; });
  const double p99 = SpreadPercent(
      history, windows,
      [](const WindowFigures& w) { return static_cast<double>(w.p99_ns); });
  return tput >= 0 && tput <= percent && p99 >= 0 && p99 <= percent;
}

double ThroughputSpreadPercent(const std::vector<WindowFigures>& history,
                               int windows) {
  const int n = std::min<int>(windows, static_cast<int>(history.size()));
  if (n == 0) return 0;
  return std::max(0.0, SpreadPercent(history, n, [](const WindowFigures& w) {
                    return w.throughput;
                  }));
}

}  // namespace serval::perf
