#include "tools/tune/objective.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace serval::tune {

double TrialFigures::ErrorFraction() const {
  const int64_t total = successes + errors;
  return total > 0 ? static_cast<double>(errors) / total : 1.0;
}

TrialFigures AddRun(const TrialFigures& a, const TrialFigures& b) {
  TrialFigures m = a;
  if (!b.error.empty()) {
    m.error = absl::StrCat("failed when measured again: ", b.error);
    return m;
  }
  const double n = a.runs;
  auto mean = [n](double x, double y) { return (x * n + y) / (n + 1); };
  for (double TrialFigures::*f :
       {&TrialFigures::throughput, &TrialFigures::p50_ms, &TrialFigures::p95_ms,
        &TrialFigures::p99_ms, &TrialFigures::queue_us,
        &TrialFigures::compute_input_us, &TrialFigures::compute_infer_us,
        &TrialFigures::compute_output_us, &TrialFigures::server_request_us,
        &TrialFigures::avg_batch, &TrialFigures::cpu_cores,
        &TrialFigures::load_ms, &TrialFigures::setup_ms,
        &TrialFigures::measure_s}) {
    m.*f = mean(a.*f, b.*f);
  }
  m.rss_mb = std::max(a.rss_mb, b.rss_mb);
  m.successes = a.successes + b.successes;
  m.errors = a.errors + b.errors;
  m.stable = a.stable && b.stable;
  m.runs = a.runs + 1;
  return m;
}

std::string Objective::Describe() const {
  std::vector<std::string> terms;
  auto term = [&terms](const char* name, double w) {
    if (w != 0) terms.push_back(absl::StrFormat("%s=%g", name, w));
  };
  term("throughput", throughput);
  term("p99", p99);
  term("memory", memory);
  term("cpu", cpu);
  std::string out = absl::StrJoin(terms, ",");
  if (max_p99_ms > 0) absl::StrAppendFormat(&out, "; p99 <= %g ms", max_p99_ms);
  if (min_throughput > 0)
    absl::StrAppendFormat(&out, "; throughput >= %g/s", min_throughput);
  if (max_rss_mb > 0) absl::StrAppendFormat(&out, "; RSS <= %g MB", max_rss_mb);
  return out;
}

absl::StatusOr<Objective> ParseObjective(const std::string& text) {
  Objective o;
  o.throughput = 0;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(part, '=');
    double w = 1;
    if (kv.size() > 2 || (kv.size() == 2 && (!absl::SimpleAtod(kv[1], &w) ||
                                             !(w > 0) || !std::isfinite(w)))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "objective '", part, "': expected NAME or NAME=WEIGHT (> 0)"));
    }
    if (kv[0] == "throughput") {
      o.throughput = w;
    } else if (kv[0] == "p99" || kv[0] == "latency") {
      o.p99 = w;
    } else if (kv[0] == "memory" || kv[0] == "rss") {
      o.memory = w;
    } else if (kv[0] == "cpu" || kv[0] == "cost") {
      o.cpu = w;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "objective '", kv[0], "': expected throughput, p99, memory or cpu"));
    }
  }
  if (o.throughput + o.p99 + o.memory + o.cpu <= 0) {
    return absl::InvalidArgumentError("the objective has no term");
  }
  return o;
}

Assessment Assess(const TrialFigures& t, const TrialFigures& ref,
                  const Objective& o) {
  Assessment a;
  if (!t.error.empty() || t.successes == 0) {
    // Worse than any trial that ran.
    a.violation = 1e9;
    a.why = t.error.empty() ? "no request succeeded" : t.error;
    return a;
  }
  std::vector<std::string> why;
  auto excess = [&](double value, double limit, bool upper, const char* text) {
    if (limit <= 0) return;
    const double over = upper ? value / limit - 1 : limit / value - 1;
    if (over > 0) {
      a.violation += over;
      why.push_back(text);
    }
  };
  excess(t.p99_ms, o.max_p99_ms, true, "p99 over budget");
  excess(std::max(t.throughput, 1e-9), o.min_throughput, false,
         "throughput too low");
  if (t.rss_mb > 0) excess(t.rss_mb, o.max_rss_mb, true, "RSS too high");
  const double ef = t.ErrorFraction();
  if (ef > o.max_error_fraction) {
    a.violation += ef * 10;  // errors weigh more than a slow p99
    why.push_back(absl::StrFormat("%.1f%% errors", ef * 100));
  }
  a.feasible = a.violation == 0;
  a.why = absl::StrJoin(why, ", ");
  auto ratio = [](double num, double den) {
    return num > 0 && den > 0 ? num / den : 1.0;
  };
  a.score = o.throughput * ratio(t.throughput, ref.throughput) +
            o.p99 * ratio(ref.p99_ms, t.p99_ms) +
            o.memory * ratio(ref.rss_mb, t.rss_mb) +
            o.cpu * ratio(ref.cpu_cores, t.cpu_cores);
  return a;
}

bool Better(const Assessment& a, const Assessment& b) {
  if (a.feasible != b.feasible) return a.feasible;
  if (a.feasible) return a.score > b.score;
  if (a.violation != b.violation) return a.violation < b.violation;
  return a.score > b.score;
}

bool BetterBy(const Assessment& a, const Assessment& b, double fraction) {
  if (a.feasible != b.feasible) return a.feasible;
  if (a.feasible) return a.score > b.score * (1 + fraction);
  return a.violation < b.violation * (1 - fraction);
}

}  // namespace serval::tune
