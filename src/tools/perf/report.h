// How `serval perf` shows its results: a table for people, CSV for
// spreadsheets, JSON for scripts (bench/compare.sh reads it). Pure
// formatting; safe from any thread.
#ifndef SERVAL_TOOLS_PERF_REPORT_H_
#define SERVAL_TOOLS_PERF_REPORT_H_

#include <string>
#include <vector>

#include "tools/perf/perf_runner.h"

namespace serval::perf {

// What the run was, echoed into every output.
struct RunDescription {
  std::string model;
  std::string protocol;  // "http-json", "http-binary", "grpc"
  std::string target;    // host:port
  int64_t batch_size = 1;
  // --latency-budget-ms; 0 = none (goodput counts every success).
  double latency_budget_ms = 0;
};

std::string FormatTable(const RunDescription& run,
                        const std::vector<StepResult>& steps);
std::string FormatCsv(const RunDescription& run,
                      const std::vector<StepResult>& steps);
std::string FormatJson(const RunDescription& run,
                       const std::vector<StepResult>& steps);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_REPORT_H_
