// What `serval tune` optimises and what a configuration must satisfy, and
// how a trial's figures are judged against them. Pure functions.
#ifndef SERVAL_TOOLS_TUNE_OBJECTIVE_H_
#define SERVAL_TOOLS_TUNE_OBJECTIVE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace serval::tune {

// One trial's figures, as measured.
struct TrialFigures {
  std::string error;      // non-empty: the configuration did not load or run
  double throughput = 0;  // successful requests/s
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  int64_t successes = 0;
  int64_t errors = 0;  // refusals included
  bool stable = false;
  // The server's breakdown per request (statistics extension), in us.
  double queue_us = 0, compute_input_us = 0, compute_infer_us = 0,
         compute_output_us = 0, server_request_us = 0, avg_batch = 0;
  double rss_mb = 0;     // server's resident memory after the trial; 0: unknown
  double cpu_cores = 0;  // server CPU seconds per second while measured
  double load_ms = 0;    // the load request, answered once READY
  double setup_ms = 0;   // from READY to the first request measured
  double measure_s = 0;  // warm-up and windows
  int runs = 1;          // measurements averaged into these figures

  double ErrorFraction() const;
};

// `a` (the mean of a.runs measurements) with one more measurement `b`:
// means of the rates, latencies and times, sums of the counts, the larger
// RSS; an error in `b` makes the whole an error.
TrialFigures AddRun(const TrialFigures& a, const TrialFigures& b);

// Weights of the terms to optimise; each term is the trial's figure
// relative to the reference trial's, so a weight is the value of a
// doubling of that figure.
struct Objective {
  double throughput = 1;  // more is better
  double p99 = 0;         // less is better
  double memory = 0;      // less is better
  double cpu = 0;         // less is better
  // Constraints (0: none).
  double max_p99_ms = 0;
  double min_throughput = 0;
  double max_rss_mb = 0;
  double max_error_fraction = 0.005;

  std::string Describe() const;
};

// "throughput", "p99", "memory", "cpu", or weights
// "throughput=1,p99=0.5".
absl::StatusOr<Objective> ParseObjective(const std::string& text);

struct Assessment {
  bool feasible = false;
  // How far outside the constraints (sum of relative excesses); orders
  // infeasible trials so the search can still climb toward feasibility.
  double violation = 0;
  double score = 0;  // weighted figures relative to the reference
  std::string why;   // which constraint failed, for people
};

Assessment Assess(const TrialFigures& trial, const TrialFigures& reference,
                  const Objective& objective);

// Feasible first; then the higher score, or the smaller violation.
bool Better(const Assessment& a, const Assessment& b);
// a is better than b by at least `fraction` (of b's score or violation).
bool BetterBy(const Assessment& a, const Assessment& b, double fraction);

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_OBJECTIVE_H_
