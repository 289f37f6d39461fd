// The `serval tune` report: one self-contained HTML file (inline CSS, SVG
// and a few lines of script to sort the table; nothing fetched), so it
// opens offline and can be mailed. Pure formatting.
#ifndef SERVAL_TOOLS_TUNE_HTML_REPORT_H_
#define SERVAL_TOOLS_TUNE_HTML_REPORT_H_

#include <string>
#include <vector>

#include "tools/tune/trial_store.h"

namespace serval::tune {

struct ReportInput {
  std::string title;      // "serval tune: resnet50_onnx"
  std::string objective;  // Objective::Describe()
  std::string space;      // SearchSpace::Describe()
  std::string search;     // quick or brute
  std::string load_unit;  // "concurrency" or "req/s"
  double elapsed_s = 0;
  double p99_budget_ms = 0;  // 0: none
  std::vector<Trial> trials;
  int best = -1;      // index into trials
  int baseline = -1;  // the default configuration at its best load
};

// "12 trials in 3.4 minutes; the best ... is 41% better than the default".
std::string SummarySentence(const ReportInput& input);
std::string RenderReport(const ReportInput& input);

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_HTML_REPORT_H_
