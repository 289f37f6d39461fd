#include "metrics/histogram.h"

#include <cmath>

namespace serval {

Histogram::Histogram(const std::vector<double>& upper_bounds, double unit)
    : unit_(unit),
      upper_bounds_(upper_bounds),
      counts_(new std::atomic<uint64_t>[upper_bounds.size() + 1]) {
  bounds_.reserve(upper_bounds.size());
  for (double b : upper_bounds) {
    // Rounded, so a bound of 0.0001 s is exactly 100000 ns.
    bounds_.push_back(static_cast<uint64_t>(std::llround(b / unit)));
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  s.upper_bounds = upper_bounds_;
  s.cumulative.reserve(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // Divided rather than multiplied by unit_: 87369 ns / 1e9 is exactly the
  // double nearest 8.7369e-05, while 87369 * 1e-9 picks up noise digits.
  const double sum = static_cast<double>(sum_.load(std::memory_order_relaxed));
  s.sum = unit_ < 1 ? sum / std::round(1 / unit_) : sum * unit_;
  return s;
}

}  // namespace serval
