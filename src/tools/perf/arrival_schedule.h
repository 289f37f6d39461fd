// When an open-loop generator sends: send times at a fixed request rate,
// evenly spaced (constant) or with exponential gaps (Poisson). The times are
// decided up front, independently of the server, so a slow response never
// delays later sends and latency is measured from the scheduled time (no
// coordinated omission). Not thread-safe: one generator thread owns it.
#ifndef SERVAL_TOOLS_PERF_ARRIVAL_SCHEDULE_H_
#define SERVAL_TOOLS_PERF_ARRIVAL_SCHEDULE_H_

#include <cstdint>
#include <random>

namespace serval::perf {

enum class Arrivals { kConstant, kPoisson };

class ArrivalSchedule {
 public:
  // `rate` in requests per second (> 0); `seed` makes Poisson runs repeatable.
  ArrivalSchedule(Arrivals arrivals, double rate, uint64_t seed = 1);

  // Offset of the next send from the start of the schedule, in ns;
  // non-decreasing from call to call.
  int64_t Next();

 private:
  Arrivals arrivals_;
  double mean_gap_ns_;
  double now_ns_ = 0;
  int64_t sent_ = 0;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> gap_;
};

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_ARRIVAL_SCHEDULE_H_
