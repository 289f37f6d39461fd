#include "tools/tune/trial_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rapidjson/document.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace serval::tune {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

void Num(Writer& w, const char* key, double v) {
  w.Key(key);
  w.Double(v);
}

// Numeric fields of a trial, so writing and reading list them once.
struct Field {
  const char* name;
  double TrialFigures::*member;
};
constexpr Field kFigures[] = {
    {"throughput", &TrialFigures::throughput},
    {"p50_ms", &TrialFigures::p50_ms},
    {"p95_ms", &TrialFigures::p95_ms},
    {"p99_ms", &TrialFigures::p99_ms},
    {"queue_us", &TrialFigures::queue_us},
    {"compute_input_us", &TrialFigures::compute_input_us},
    {"compute_infer_us", &TrialFigures::compute_infer_us},
    {"compute_output_us", &TrialFigures::compute_output_us},
    {"server_request_us", &TrialFigures::server_request_us},
    {"avg_batch", &TrialFigures::avg_batch},
    {"rss_mb", &TrialFigures::rss_mb},
    {"cpu_cores", &TrialFigures::cpu_cores},
    {"load_ms", &TrialFigures::load_ms},
    {"setup_ms", &TrialFigures::setup_ms},
    {"measure_s", &TrialFigures::measure_s},
};

std::string CsvText(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string TrialsToJson(const RunInfo& run, const std::vector<Trial>& trials) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  Str(w, "tool", "serval tune");
  Str(w, "measurement", run.measurement);
  Str(w, "objective", run.objective);
  Str(w, "space", run.space);
  Str(w, "search", run.search);
  Str(w, "best", run.best_key);
  Str(w, "baseline", run.baseline_key);
  Num(w, "elapsed_s", run.elapsed_s);
  w.Key("trials");
  w.StartArray();
  for (const Trial& t : trials) {
    const Candidate& c = t.candidate;
    const TrialFigures& f = t.figures;
    w.StartObject();
    Str(w, "key", c.Key());
    Str(w, "model", c.model);
    Num(w, "instances", c.instances);
    Num(w, "threads", c.threads);
    Num(w, "max_batch_size", c.max_batch_size);
    Num(w, "queue_delay_us", static_cast<double>(c.delay_us));
    Str(w, "preferred", c.preferred);
    Num(w, "load", c.load);
    Str(w, "error", f.error);
    Num(w, "successes", static_cast<double>(f.successes));
    Num(w, "errors", static_cast<double>(f.errors));
    Num(w, "runs", f.runs);
    w.Key("stable");
    w.Bool(f.stable);
    for (const Field& field : kFigures) Num(w, field.name, f.*field.member);
    w.Key("feasible");
    w.Bool(t.assessment.feasible);
    Num(w, "score", t.assessment.score);
    Str(w, "why", t.assessment.why);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(b.GetString(), b.GetSize()) + "\n";
}

std::string TrialsToCsv(const std::vector<Trial>& trials) {
  std::string out =
      "model,instances,threads,max_batch_size,queue_delay_us,preferred,load,"
      "feasible,score,error,successes,errors,runs,stable";
  for (const Field& field : kFigures) absl::StrAppend(&out, ",", field.name);
  absl::StrAppend(&out, ",why\n");
  for (const Trial& t : trials) {
    const Candidate& c = t.candidate;
    const TrialFigures& f = t.figures;
    absl::StrAppendFormat(&out, "%s,%d,%d,%d,%d,%s,%g,%d,%.4f,%s,%d,%d,%d,%d",
                          CsvText(c.model), c.instances, c.threads,
                          c.max_batch_size, c.delay_us, CsvText(c.preferred),
                          c.load, t.assessment.feasible ? 1 : 0,
                          t.assessment.score, CsvText(f.error), f.successes,
                          f.errors, f.runs, f.stable ? 1 : 0);
    for (const Field& field : kFigures) {
      absl::StrAppendFormat(&out, ",%.3f", f.*field.member);
    }
    absl::StrAppend(&out, ",", CsvText(t.assessment.why), "\n");
  }
  return out;
}

absl::StatusOr<StoredRun> TrialsFromJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("trials") ||
      !d["trials"].IsArray() || !d.HasMember("measurement") ||
      !d["measurement"].IsString()) {
    return absl::InvalidArgumentError("not a serval tune results file");
  }
  StoredRun run;
  run.measurement = d["measurement"].GetString();
  auto str = [](const rapidjson::Value& o, const char* k) -> std::string {
    return o.HasMember(k) && o[k].IsString() ? o[k].GetString() : "";
  };
  auto num = [](const rapidjson::Value& o, const char* k) -> double {
    return o.HasMember(k) && o[k].IsNumber() ? o[k].GetDouble() : 0;
  };
  for (const auto& o : d["trials"].GetArray()) {
    if (!o.IsObject()) continue;
    Trial t;
    t.resumed = true;
    Candidate& c = t.candidate;
    c.model = str(o, "model");
    c.instances = static_cast<int>(num(o, "instances"));
    c.threads = static_cast<int>(num(o, "threads"));
    c.max_batch_size = static_cast<int>(num(o, "max_batch_size"));
    c.delay_us = static_cast<int64_t>(num(o, "queue_delay_us"));
    c.preferred = str(o, "preferred");
    c.load = num(o, "load");
    TrialFigures& f = t.figures;
    f.error = str(o, "error");
    f.successes = static_cast<int64_t>(num(o, "successes"));
    f.errors = static_cast<int64_t>(num(o, "errors"));
    f.runs = std::max(1, static_cast<int>(num(o, "runs")));
    f.stable =
        o.HasMember("stable") && o["stable"].IsBool() && o["stable"].GetBool();
    for (const Field& field : kFigures) f.*field.member = num(o, field.name);
    if (c.model.empty() || str(o, "key") != c.Key()) {
      return absl::InvalidArgumentError(
          absl::StrCat("results file: trial '", str(o, "key"),
                       "' does not match its own fields"));
    }
    run.trials.push_back(std::move(t));
  }
  return run;
}

}  // namespace serval::tune
