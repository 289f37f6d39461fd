// Runs the steps of a `serval perf` sweep: for each concurrency (closed
// loop) or request rate (open loop), warm up, then measure windows until
// the last three agree (stability.h) or max_trials is reached, reading the
// server's statistics at every window boundary. Used from one thread.
#ifndef SERVAL_TOOLS_PERF_PERF_RUNNER_H_
#define SERVAL_TOOLS_PERF_PERF_RUNNER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tools/perf/arrival_schedule.h"
#include "tools/perf/latency_summary.h"
#include "tools/perf/server_stats.h"
#include "tools/perf/transport.h"

namespace serval::perf {

class LoadDriver;
class Recorder;

struct RunOptions {
  int64_t window_ms = 5000;
  int64_t warmup_ms = 2000;
  double stability_percent = 10;
  int max_trials = 10;  // windows per step at most
  int64_t batch_size = 1;
  bool server_stats = true;
  Arrivals arrivals = Arrivals::kConstant;
  uint64_t seed = 1;
  // Goodput counts successes within this latency; 0 = every success.
  int64_t latency_budget_ns = 0;
};

// One step's figures over its last (up to) three windows.
struct StepResult {
  bool open_loop = false;
  double level = 0;  // concurrency, or offered requests/s
  int windows = 0;
  bool stable = false;
  double seconds = 0;            // measured time of the reported windows
  double throughput = 0;         // successful requests/s (median window)
  double throughput_spread = 0;  // (max - min) / mean of those windows, %
  double inferences_per_s = 0;   // throughput * batch size
  int64_t successes = 0;
  int64_t errors = 0;
  std::map<std::string, int64_t> errors_by_code;
  LatencySummary latency;  // of successful requests
  double send_us = 0;      // client: average time writing a request
  double recv_us = 0;      // client: average time reading a response body
  // Open loop: how late requests went out after their scheduled time.
  // Large values mean the client, not the server, fell behind.
  double lag_avg_us = 0;
  double lag_max_us = 0;
  ServerBreakdown server;
  bool drained = true;  // false: requests were still in flight at the end
  // Goodput and refusals (goodput.h) over the reported windows.
  double goodput = 0;
  int64_t within_budget = 0;
  int64_t refusals = 0;
  LatencySummary refusal_latency;
  int64_t other_errors = 0;
};

// Receives a line describing progress (the caller decides where it goes).
using ProgressFn = std::function<void(const std::string&)>;

class PerfRunner {
 public:
  PerfRunner(Transport* transport, RunOptions options, ProgressFn progress)
      : transport_(transport),
        options_(options),
        progress_(std::move(progress)) {}

  StepResult RunConcurrency(int concurrency);
  StepResult RunRate(double requests_per_s);

 private:
  StepResult Measure(LoadDriver* driver, Recorder* recorder, bool open_loop,
                     double level);
  // nullopt when the server gives no statistics (warned about once).
  std::optional<ServerStats> Snapshot();

  Transport* transport_;
  RunOptions options_;
  ProgressFn progress_;
  bool stats_warned_ = false;
};

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_PERF_RUNNER_H_
