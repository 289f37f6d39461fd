#include "tools/tune/tuner.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "config/config_json.h"
#include "tools/perf/transport.h"
#include "tools/tune/candidate_config.h"
#include "tools/tune/html_report.h"

namespace serval::tune {
namespace {

// Written beside, then renamed over: an interrupted write never leaves a
// truncated results file to resume from.
absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : absl::StrCat(dir, "/", name);
}

std::string Minutes(double seconds) {
  return seconds < 90 ? absl::StrFormat("%.0f s", seconds)
                      : absl::StrFormat("%.1f min", seconds / 60);
}

}  // namespace

int Tuner::IndexOf(const std::optional<Point>& p) const {
  if (!p || !space_) return -1;
  auto it = trial_index_.find(space_->At(*p).Key());
  return it == trial_index_.end() ? -1 : it->second;
}

absl::Status Tuner::Prepare() {
  RETURN_IF_ERROR(client_->CheckLive());
  ASSIGN_OR_RETURN(std::set<std::string> ready, client_->ReadyModels());
  std::vector<ModelFacts> facts;
  for (const std::string& m : options_.models) {
    if (!ready.count(m)) {
      // Not loaded: load it from its repository for the run, unload after.
      out_.line(absl::StrCat("loading '", m, "' (not loaded on the server)"));
      RETURN_IF_ERROR(client_->Load(m, ""));
      loaded_by_us_.push_back(m);
    }
    ASSIGN_OR_RETURN(inference::ModelConfig config, client_->GetConfig(m));
    ASSIGN_OR_RETURN(base_json_[m], ModelConfigToJson(config));
    facts.push_back(FactsFromConfig(config));
    base_[m] = std::move(config);
  }
  ASSIGN_OR_RETURN(SearchSpace space,
                   SearchSpace::Build(facts, options_.space));
  space_ = std::move(space);
  // Both walk the whole grid: once, not after every trial.
  grid_size_ = space_->AllPoints().size();
  space_text_ = space_->Describe();
  runner_ = std::make_unique<TrialRunner>(client_, base_, measure_, out_.live);

  const std::string results = Join(options_.output_dir, "trials.json");
  std::ifstream in(results, std::ios::binary);
  if (in && !options_.fresh) {
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StatusOr<StoredRun> stored = TrialsFromJson(ss.str());
    if (!stored.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(results, ": ", stored.status().message(),
                       "; move it away or pass --fresh"));
    }
    if (stored->measurement != options_.measurement) {
      return absl::FailedPreconditionError(absl::StrCat(
          results, " was measured with other settings (", stored->measurement,
          "; now ", options_.measurement,
          "); pass --fresh to start again, or another --output-dir"));
    }
    for (Trial& t : stored->trials) {
      std::string key = t.candidate.Key();
      previous_[key] = std::move(t);
    }
    out_.line(
        absl::StrCat("resuming: ", previous_.size(), " trials in ", results));
  }
  return absl::OkStatus();
}

std::optional<Assessment> Tuner::Evaluate(const Point& p) {
  const Candidate c = space_->At(p);
  const std::string key = c.Key();
  Trial t;
  auto prev = previous_.find(key);
  if (prev != previous_.end()) {
    t = prev->second;
  } else {
    if (stop_requested_()) {
      stop_reason_ = "interrupted";
      return std::nullopt;
    }
    if (options_.max_trials > 0 && measured_ >= options_.max_trials) {
      stop_reason_ = absl::StrCat("--max-trials ", options_.max_trials);
      return std::nullopt;
    }
    const double elapsed = (perf::NowNs() - start_ns_) / 1e9;
    if (options_.time_limit_s > 0 && elapsed >= options_.time_limit_s) {
      stop_reason_ = "--time-limit-min";
      return std::nullopt;
    }
    t.candidate = c;
    t.figures = runner_->Run(c);
    ++measured_;
    if (out_.live) out_.live("");
  }
  const TrialFigures* reference = Reference();
  t.assessment =
      Assess(t.figures, reference ? *reference : t.figures, options_.objective);
  point_of_[key] = p;
  trial_index_[key] = static_cast<int>(trials_.size());
  trials_.push_back(t);

  const TrialFigures& f = t.figures;
  const double elapsed = (perf::NowNs() - start_ns_) / 1e9;
  // Brute knows how many trials are left; quick only its bound.
  const size_t total =
      options_.brute ? grid_size_
                     : static_cast<size_t>(std::max(0, options_.max_trials));
  std::string line = absl::StrFormat(
      "[%d%s] %s %s, %s %g: ", trials_.size(),
      total == 0 ? std::string()
                 : absl::StrCat(options_.brute ? "/" : "/<=", total),
      c.model, c.ConfigLabel(), space_->open_loop() ? "rate" : "concurrency",
      c.load);
  if (!f.error.empty()) {
    absl::StrAppend(&line, "failed: ", f.error);
  } else {
    absl::StrAppendFormat(&line, "%.1f req/s, p99 %.2f ms, %d errors",
                          f.throughput, f.p99_ms, f.errors);
    if (f.rss_mb > 0)
      absl::StrAppendFormat(&line, ", RSS %.0f MB, %.2f cores", f.rss_mb,
                            f.cpu_cores);
    if (!t.assessment.feasible)
      absl::StrAppend(&line, " [", t.assessment.why, "]");
  }
  if (t.resumed) absl::StrAppend(&line, " (resumed)");
  absl::StrAppend(&line, "; ", Minutes(elapsed), " so far");
  if (total > trials_.size() && measured_ > 0) {
    const double per = elapsed / measured_;
    absl::StrAppend(&line, options_.brute ? ", about " : ", at most about ",
                    Minutes(per * (total - trials_.size())), " left");
  }
  out_.line(line);
  if (absl::Status s = WriteOutputs(false); !s.ok()) {
    out_.line(absl::StrCat("warning: ", s.message()));
  }
  return t.assessment;
}

const TrialFigures* Tuner::Reference() const {
  // Scores are relative to the first trial that served requests (the
  // model's own configuration: every search measures it first).
  for (const Trial& t : trials_) {
    if (t.figures.error.empty() && t.figures.successes > 0) return &t.figures;
  }
  return nullptr;
}

void Tuner::Reassess() {
  const TrialFigures* reference = Reference();
  if (!reference) return;
  const TrialFigures ref = *reference;
  for (Trial& t : trials_) {
    t.assessment = Assess(t.figures, ref, options_.objective);
  }
}

void Tuner::Confirm() {
  if (options_.confirm <= 0 || trials_.empty()) return;
  std::vector<int> order;
  for (size_t i = 0; i < trials_.size(); ++i) {
    if (trials_[i].assessment.feasible) order.push_back(static_cast<int>(i));
  }
  std::stable_sort(order.begin(), order.end(), [this](int a, int b) {
    return trials_[a].assessment.score > trials_[b].assessment.score;
  });
  if (static_cast<int>(order.size()) > options_.confirm) {
    order.resize(options_.confirm);
  }
  const int baseline = IndexOf(baseline_);
  if (baseline >= 0 && trials_[baseline].assessment.feasible &&
      std::find(order.begin(), order.end(), baseline) == order.end()) {
    order.push_back(baseline);
  }
  if (order.size() < 2) return;  // nothing to choose between
  const size_t to_measure =
      std::count_if(order.begin(), order.end(),
                    [this](int i) { return trials_[i].figures.runs < 2; });
  if (to_measure > 0) {
    out_.line(absl::StrCat("measuring the leading ", to_measure,
                           " configurations again"));
  }
  for (int i : order) {
    Trial& t = trials_[i];
    if (t.figures.runs >= 2) continue;  // confirmed before an interruption
    if (stop_requested_()) {
      stop_reason_ = "interrupted";
      break;
    }
    const double before = t.figures.throughput;
    const TrialFigures again = runner_->Run(t.candidate);
    t.figures = AddRun(t.figures, again);
    if (out_.live) out_.live("");
    out_.line(absl::StrFormat(
        "  %s %s, %s %g: %.1f then %.1f req/s (p99 %.2f ms on average)",
        t.candidate.model, t.candidate.ConfigLabel(),
        space_->open_loop() ? "rate" : "concurrency", t.candidate.load, before,
        again.throughput, t.figures.p99_ms));
    Reassess();
    (void)WriteOutputs(false);
  }
  Reassess();
  // The winner is the best of those measured twice.
  int best = -1;
  for (int i : order) {
    if (trials_[i].figures.runs < 2) continue;
    if (best < 0 || Better(trials_[i].assessment, trials_[best].assessment)) {
      best = i;
    }
  }
  if (best >= 0) best_ = point_of_.at(trials_[best].candidate.Key());
}

absl::Status Tuner::WriteOutputs(bool final_write) {
  Reassess();
  const int best = IndexOf(best_);
  const int baseline = IndexOf(baseline_);
  RunInfo info;
  info.measurement = options_.measurement;
  info.objective = options_.objective.Describe();
  info.space = space_text_;
  info.search = options_.brute ? "brute" : "quick";
  info.best_key = best >= 0 ? trials_[best].candidate.Key() : "";
  info.baseline_key = baseline >= 0 ? trials_[baseline].candidate.Key() : "";
  info.elapsed_s = (perf::NowNs() - start_ns_) / 1e9;
  // Trials of the earlier run that this one did not reach stay in the file.
  std::vector<Trial> all = trials_;
  for (const auto& [key, t] : previous_) {
    if (!trial_index_.count(key)) all.push_back(t);
  }
  RETURN_IF_ERROR(WriteAtomically(Join(options_.output_dir, "trials.json"),
                                  TrialsToJson(info, all)));
  RETURN_IF_ERROR(WriteAtomically(Join(options_.output_dir, "trials.csv"),
                                  TrialsToCsv(trials_)));
  if (!final_write) return absl::OkStatus();

  ReportInput report;
  report.title =
      absl::StrCat("serval tune: ", absl::StrJoin(options_.models, ", "));
  report.objective = info.objective;
  report.space = info.space;
  report.search = info.search;
  report.load_unit = space_->open_loop() ? "req/s" : "concurrency";
  report.elapsed_s = info.elapsed_s;
  report.p99_budget_ms = options_.objective.max_p99_ms;
  report.trials = trials_;
  report.best = best >= 0 && trials_[best].assessment.feasible ? best : -1;
  report.baseline = baseline;
  RETURN_IF_ERROR(WriteAtomically(Join(options_.output_dir, "report.html"),
                                  RenderReport(report)));
  out_.line(SummarySentence(report));
  if (report.best >= 0) {
    const Trial& b = trials_[report.best];
    const std::string comment = absl::StrFormat(
        "Written by serval tune: %s, measured at %s %g: %.1f req/s, p99 %.2f "
        "ms.\nObjective: %s.",
        b.candidate.ConfigLabel(), report.load_unit, b.candidate.load,
        b.figures.throughput, b.figures.p99_ms, info.objective);
    RETURN_IF_ERROR(WriteAtomically(
        options_.config_out,
        ToPbtxt(ApplyCandidate(base_.at(b.candidate.model), b.candidate),
                comment)));
    out_.line(absl::StrCat("best configuration of '", b.candidate.model,
                           "': ", options_.config_out));
  }
  return absl::OkStatus();
}

absl::Status Tuner::Restore(const Trial* best) {
  absl::Status first;
  for (const auto& [model, json] : base_json_) {
    const bool was_ours = std::find(loaded_by_us_.begin(), loaded_by_us_.end(),
                                    model) != loaded_by_us_.end();
    absl::Status s;
    if (options_.apply && best && best->candidate.model == model) {
      absl::StatusOr<std::string> j =
          ModelConfigToJson(ApplyCandidate(base_.at(model), best->candidate));
      s = j.ok() ? client_->Load(model, *j) : j.status();
      if (s.ok())
        out_.line(absl::StrCat("applied the best configuration to '", model,
                               "' (until its next load from the repository)"));
    } else if (was_ours) {
      s = client_->Unload(model);
    } else {
      // The configuration it was serving, exactly: the one fetched first.
      s = client_->Load(model, json);
    }
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

absl::Status Tuner::Run() {
  start_ns_ = perf::NowNs();
  if (!options_.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.output_dir, ec);
    struct stat st;
    if (stat(options_.output_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot create --output-dir ", options_.output_dir));
    }
  }
  absl::Status prepared = Prepare();
  if (!prepared.ok()) {
    if (!base_json_.empty()) (void)Restore(nullptr);
    return prepared;
  }
  out_.line(absl::StrCat("space: ", space_text_));
  out_.line(absl::StrCat("objective: ", options_.objective.Describe(), "; ",
                         options_.brute ? "brute" : "quick", " search"));
  Search search(
      &*space_, [this](const Point& p) { return Evaluate(p); },
      options_.search);
  best_ = options_.brute ? search.Brute() : search.Quick();
  baseline_ = search.baseline();
  if (stop_reason_.empty()) Confirm();
  if (!stop_reason_.empty()) {
    out_.line(absl::StrCat("stopped early (", stop_reason_,
                           "); the best so far is reported"));
  }
  absl::Status written = WriteOutputs(true);
  const int best = IndexOf(best_);
  const Trial* best_trial =
      best >= 0 && trials_[best].assessment.feasible ? &trials_[best] : nullptr;
  absl::Status restored = Restore(best_trial);
  if (!restored.ok()) {
    out_.line(absl::StrCat("warning: could not restore the server: ",
                           restored.message()));
  }
  RETURN_IF_ERROR(written);
  if (!best_trial) {
    return absl::NotFoundError(
        trials_.empty() ? "no trial ran"
                        : "no configuration met the constraints (see the "
                          "report for how close each came)");
  }
  return restored;
}

}  // namespace serval::tune
