// ExecutionProfile: how long one batch of n items takes on a model version,
// learnt from its own executions. Moving averages per batch size of the
// time and of its deviation, so that a bound that must hold (a latency
// target) can use a likely upper value, mean + 2 deviations; a size
// that never ran is estimated from its measured neighbours (interpolated
// between them, per item beyond the largest, and as the next larger one
// below the smallest, which errs towards refusing). The table of estimates
// is rebuilt per recorded batch so that a lookup, done for every request at
// admission, is O(1). Not thread-safe: the BatchQueue calls it under the
// scheduler's lock.
#ifndef SERVAL_SCHEDULER_EXECUTION_PROFILE_H_
#define SERVAL_SCHEDULER_EXECUTION_PROFILE_H_

#include <cstdint>
#include <vector>

namespace serval {

class ExecutionProfile {
 public:
  // Sizes 1..max(1, max_batch_size) are kept apart (at most kMaxSizes);
  // larger batches count per item from the largest kept.
  explicit ExecutionProfile(int64_t max_batch_size);

  void Record(int64_t items, uint64_t duration_ns);
  // The expected duration of a batch of `items` (at least 1); 0 until a
  // batch has run.
  uint64_t EstimateNs(int64_t items) const;
  // A likely upper bound of that duration: mean + 2 deviations.
  uint64_t UpperNs(int64_t items) const;
  bool empty() const { return measured_ == 0; }
  // The largest batch, at most `limit`, whose upper bound is within
  // `duration_ns`; at least 1.
  int64_t LargestWithin(uint64_t duration_ns, int64_t limit) const;

  static constexpr int64_t kMaxSizes = 4096;

 private:
  void Rebuild();
  // Fills `table` from the values `at` of the measured sizes.
  void Fill(const std::vector<uint64_t>& at,
            std::vector<uint64_t>* table) const;
  uint64_t Lookup(const std::vector<uint64_t>& table, int64_t items) const;

  // Index items-1. mean_ 0: that size never ran.
  std::vector<uint64_t> mean_, deviation_;
  std::vector<uint64_t> estimate_, upper_;
  int64_t measured_ = 0;  // sizes with an average
};

}  // namespace serval

#endif  // SERVAL_SCHEDULER_EXECUTION_PROFILE_H_
