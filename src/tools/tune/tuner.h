// `serval tune` from start to end on a running server: learn the models'
// configurations, search the space (quick or brute), measure each point
// with a TrialRunner, keep every trial in the results file (resuming from
// it), write the outputs, and leave the server as it was found (or with
// the best configuration, when asked). Used from one thread.
#ifndef SERVAL_TOOLS_TUNE_TUNER_H_
#define SERVAL_TOOLS_TUNE_TUNER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/tune/objective.h"
#include "tools/tune/search.h"
#include "tools/tune/search_space.h"
#include "tools/tune/server_client.h"
#include "tools/tune/trial_runner.h"
#include "tools/tune/trial_store.h"

namespace serval::tune {

struct TunerOptions {
  std::vector<std::string> models;
  SpaceOptions space;
  Objective objective;
  SearchOptions search;
  bool brute = false;
  int max_trials = 0;       // new measurements at most; 0: no limit
  double time_limit_s = 0;  // 0: no limit
  std::string output_dir;
  std::string config_out;  // the winning config.pbtxt
  bool apply = false;      // leave the best configuration loaded
  bool fresh = false;      // ignore an earlier results file
  // The best `confirm` configurations (and the baseline) are measured once
  // more and judged on the mean: one lucky window does not pick the
  // winner. 0: off.
  int confirm = 3;
  std::string measurement;  // measurement settings, for resuming
};

// Where `serval tune` says what it is doing (a line each; `live` lines may
// be overwritten by the next).
struct TunerOutput {
  std::function<void(const std::string&)> line;
  std::function<void(const std::string&)> live;
};

class Tuner {
 public:
  Tuner(ServerClient* client, MeasureOptions measure, TunerOptions options,
        TunerOutput output, std::function<bool()> stop_requested)
      : client_(client),
        measure_(std::move(measure)),
        options_(std::move(options)),
        out_(std::move(output)),
        stop_requested_(std::move(stop_requested)) {}

  // The whole run. OK with a best configuration written, or an error that
  // says why not; the server is restored either way.
  absl::Status Run();

 private:
  absl::Status Prepare();
  std::optional<Assessment> Evaluate(const Point& p);
  // Measures the leading trials again; the best of them becomes best_.
  void Confirm();
  void Reassess();
  // The figures scores are relative to; null before any trial served.
  const TrialFigures* Reference() const;
  absl::Status Restore(const Trial* best);
  absl::Status WriteOutputs(bool final_write);
  int IndexOf(const std::optional<Point>& p) const;

  ServerClient* client_;
  MeasureOptions measure_;
  TunerOptions options_;
  TunerOutput out_;
  std::function<bool()> stop_requested_;

  std::map<std::string, inference::ModelConfig> base_;
  std::map<std::string, std::string> base_json_;
  std::vector<std::string> loaded_by_us_;
  std::optional<SearchSpace> space_;
  size_t grid_size_ = 0;    // valid points of space_
  std::string space_text_;  // space_->Describe()
  std::unique_ptr<TrialRunner> runner_;
  std::map<std::string, Trial> previous_;  // by key, from the results file
  std::vector<Trial> trials_;
  std::map<std::string, int> trial_index_;  // key -> index in trials_
  std::map<std::string, Point> point_of_;   // key -> its point
  int measured_ = 0;
  int64_t start_ns_ = 0;
  std::optional<Point> best_, baseline_;
  std::string stop_reason_;
};

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_TUNER_H_
