// Every trial of a `serval tune` run, kept as JSON after each trial so an
// interrupted run resumes where it stopped (trials of the same
// measurement settings are reused, not measured again), and written as
// CSV for spreadsheets. Pure formatting and parsing; one thread.
#ifndef SERVAL_TOOLS_TUNE_TRIAL_STORE_H_
#define SERVAL_TOOLS_TUNE_TRIAL_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/tune/objective.h"
#include "tools/tune/search_space.h"

namespace serval::tune {

struct Trial {
  Candidate candidate;
  TrialFigures figures;
  Assessment assessment;  // recomputed from the figures, not stored
  bool resumed = false;   // taken from an earlier run's results
};

// What the run was; trials are reused only under the same `measurement`.
struct RunInfo {
  std::string measurement;  // protocol, windows, stability, arrivals, ...
  std::string objective;
  std::string space;
  std::string search;  // quick or brute
  std::string best_key, baseline_key;
  double elapsed_s = 0;
};

std::string TrialsToJson(const RunInfo& run, const std::vector<Trial>& trials);
std::string TrialsToCsv(const std::vector<Trial>& trials);

// The trials of a results file and its measurement settings.
struct StoredRun {
  std::string measurement;
  std::vector<Trial> trials;
};
absl::StatusOr<StoredRun> TrialsFromJson(const std::string& text);

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_TRIAL_STORE_H_
