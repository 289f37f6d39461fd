// Histogram: a Prometheus-style histogram with fixed upper bounds, recorded
// with one relaxed atomic add per bucket hit plus one for the sum, so the
// hot path takes no lock. Values are integer "ticks" (nanoseconds for
// latencies, items for batch sizes); `unit` converts ticks to the exported
// base unit (1e-9 for seconds). Observe and Snapshot are thread-safe; a
// snapshot taken while observations run may be off by the in-flight ones.
#ifndef SERVAL_METRICS_HISTOGRAM_H_
#define SERVAL_METRICS_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace serval {

struct HistogramSnapshot {
  std::vector<double> upper_bounds;  // base units, ascending, no +Inf
  std::vector<uint64_t> cumulative;  // one per bound, then the +Inf count
  double sum = 0;                    // base units
  uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
};

class Histogram {
 public:
  // `upper_bounds` in base units, strictly ascending (see ValidateBuckets);
  // a value v falls in the first bucket whose bound is >= v.
  Histogram(const std::vector<double>& upper_bounds, double unit);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(uint64_t ticks) {
    size_t i = 0;
    while (i < bounds_.size() && ticks > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(ticks, std::memory_order_relaxed);
  }

  HistogramSnapshot Snapshot() const;

 private:
  const double unit_;
  std::vector<double> upper_bounds_;
  std::vector<uint64_t> bounds_;  // in ticks
  // bounds_.size() + 1 buckets; the last is +Inf. Not cumulative.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_{0};
};

}  // namespace serval

#endif  // SERVAL_METRICS_HISTOGRAM_H_
