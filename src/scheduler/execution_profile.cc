#include "scheduler/execution_profile.h"

#include <algorithm>

namespace serval {

ExecutionProfile::ExecutionProfile(int64_t max_batch_size)
    : average_(std::clamp<int64_t>(max_batch_size, 1, kMaxSizes), 0),
      estimate_(average_.size(), 0) {}

void ExecutionProfile::Record(int64_t items, uint64_t duration_ns) {
  const size_t i =
      static_cast<size_t>(std::clamp<int64_t>(items, 1, average_.size()) - 1);
  // An exponential moving average per size: follows a change of load
  // within a few batches without being thrown by one outlier.
  uint64_t& a = average_[i];
  if (a == 0) {
    ++measured_;
    a = std::max<uint64_t>(1, duration_ns);
  } else {
    a = (a * 7 + duration_ns) / 8;
  }
  Rebuild();
}

void ExecutionProfile::Rebuild() {
  const size_t n = average_.size();
  // Below the smallest measured size: as that size (no faster, to err on
  // the side of refusing). Between two: linear. Above the largest: per
  // item from it.
  size_t prev = n;  // index of the previous measured size; n: none yet
  for (size_t i = 0; i < n; ++i) {
    if (average_[i] == 0) continue;
    estimate_[i] = average_[i];
    if (prev == n) {
      for (size_t j = 0; j < i; ++j) estimate_[j] = average_[i];
    } else {
      const double lo = static_cast<double>(average_[prev]);
      const double step = (static_cast<double>(average_[i]) - lo) /
                          static_cast<double>(i - prev);
      for (size_t j = prev + 1; j < i; ++j) {
        estimate_[j] = static_cast<uint64_t>(lo + step * (j - prev));
      }
    }
    prev = i;
  }
  for (size_t j = prev + 1; j < n; ++j) {
    estimate_[j] = average_[prev] * (j + 1) / (prev + 1);
  }
}

uint64_t ExecutionProfile::EstimateNs(int64_t items) const {
  if (measured_ == 0) return 0;
  const int64_t n = static_cast<int64_t>(estimate_.size());
  items = std::max<int64_t>(1, items);
  if (items <= n) return estimate_[items - 1];
  return estimate_[n - 1] / n * items;
}

int64_t ExecutionProfile::LargestWithin(uint64_t duration_ns,
                                        int64_t limit) const {
  limit = std::clamp<int64_t>(limit, 1, estimate_.size());
  if (measured_ == 0) return limit;
  // Estimates grow with the size, except where measured averages
  // disagree; a scan from the top keeps the largest that fits.
  for (int64_t b = limit; b > 1; --b) {
    if (estimate_[b - 1] <= duration_ns) return b;
  }
  return 1;
}

}  // namespace serval
