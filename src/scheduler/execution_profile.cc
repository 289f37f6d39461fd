#include "scheduler/execution_profile.h"

#include <algorithm>

namespace serval {

ExecutionProfile::ExecutionProfile(int64_t max_batch_size)
    : mean_(std::clamp<int64_t>(max_batch_size, 1, kMaxSizes), 0),
      deviation_(mean_.size(), 0),
      estimate_(mean_.size(), 0),
      upper_(mean_.size(), 0) {}

void ExecutionProfile::Record(int64_t items, uint64_t duration_ns) {
  const size_t i =
      static_cast<size_t>(std::clamp<int64_t>(items, 1, mean_.size()) - 1);
  // Moving averages per size of the time and of its deviation from it
  // (as TCP estimates round trips): they follow a change of load within a
  // few batches without being thrown by one outlier.
  uint64_t& mean = mean_[i];
  uint64_t& dev = deviation_[i];
  if (mean == 0) {
    ++measured_;
    mean = std::max<uint64_t>(1, duration_ns);
    dev = 0;  // one sample says nothing of the spread
  } else {
    const uint64_t off =
        duration_ns > mean ? duration_ns - mean : mean - duration_ns;
    dev = (dev * 3 + off) / 4;
    mean = std::max<uint64_t>(1, (mean * 7 + duration_ns) / 8);
  }
  Rebuild();
}

void ExecutionProfile::Fill(const std::vector<uint64_t>& at,
                            std::vector<uint64_t>* table) const {
  const size_t n = mean_.size();
  // Below the smallest measured size: as that size (no faster, to err on
  // the side of refusing). Between two: linear. Above the largest: per
  // item from it.
  size_t prev = n;  // index of the previous measured size; n: none yet
  for (size_t i = 0; i < n; ++i) {
    if (mean_[i] == 0) continue;
    (*table)[i] = at[i];
    if (prev == n) {
      for (size_t j = 0; j < i; ++j) (*table)[j] = at[i];
    } else {
      const double lo = static_cast<double>(at[prev]);
      const double step =
          (static_cast<double>(at[i]) - lo) / static_cast<double>(i - prev);
      for (size_t j = prev + 1; j < i; ++j) {
        (*table)[j] = static_cast<uint64_t>(lo + step * (j - prev));
      }
    }
    prev = i;
  }
  for (size_t j = prev + 1; j < n; ++j) {
    (*table)[j] = at[prev] * (j + 1) / (prev + 1);
  }
}

void ExecutionProfile::Rebuild() {
  Fill(mean_, &estimate_);
  std::vector<uint64_t> upper(mean_.size());
  for (size_t i = 0; i < mean_.size(); ++i) {
    upper[i] = mean_[i] + 2 * deviation_[i];
  }
  Fill(upper, &upper_);
}

uint64_t ExecutionProfile::Lookup(const std::vector<uint64_t>& table,
                                  int64_t items) const {
  if (measured_ == 0) return 0;
  const int64_t n = static_cast<int64_t>(table.size());
  items = std::max<int64_t>(1, items);
  if (items <= n) return table[items - 1];
  return table[n - 1] / n * items;
}

uint64_t ExecutionProfile::EstimateNs(int64_t items) const {
  return Lookup(estimate_, items);
}

uint64_t ExecutionProfile::UpperNs(int64_t items) const {
  return Lookup(upper_, items);
}

int64_t ExecutionProfile::LargestWithin(uint64_t duration_ns,
                                        int64_t limit) const {
  limit = std::clamp<int64_t>(limit, 1, upper_.size());
  if (measured_ == 0) return limit;
  // Estimates grow with the size, except where measured averages
  // disagree; a scan from the top keeps the largest that fits.
  for (int64_t b = limit; b > 1; --b) {
    if (upper_[b - 1] <= duration_ns) return b;
  }
  return 1;
}

}  // namespace serval
