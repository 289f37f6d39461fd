#include "tools/perf/arrival_schedule.h"

namespace serval::perf {

ArrivalSchedule::ArrivalSchedule(Arrivals arrivals, double rate, uint64_t seed)
    : arrivals_(arrivals), mean_gap_ns_(1e9 / rate), rng_(seed), gap_(1.0) {}

int64_t ArrivalSchedule::Next() {
  if (arrivals_ == Arrivals::kConstant) {
    // Multiplying instead of accumulating keeps rounding from drifting.
    return static_cast<int64_t>(mean_gap_ns_ * static_cast<double>(sent_++));
  }
  const int64_t at = static_cast<int64_t>(now_ns_);
  now_ns_ += gap_(rng_) * mean_gap_ns_;
  return at;
}

}  // namespace serval::perf
