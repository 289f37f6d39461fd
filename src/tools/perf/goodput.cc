#include "tools/perf/goodput.h"

namespace serval::perf {

bool IsRefusal(std::string_view error) {
  return error == "HTTP 503" || error == "HTTP 429" ||
         error == "gRPC UNAVAILABLE" || error == "gRPC RESOURCE_EXHAUSTED";
}

Outcomes CountOutcomes(const std::vector<const Sample*>& samples,
                       double seconds, int64_t budget_ns) {
  Outcomes o;
  std::vector<int64_t> refused;
  for (const Sample* s : samples) {
    if (s->error.empty()) {
      if (budget_ns <= 0 || s->latency_ns <= budget_ns) ++o.within_budget;
    } else if (IsRefusal(s->error)) {
      refused.push_back(s->latency_ns);
    } else {
      ++o.other_errors;
    }
  }
  o.refusals = static_cast<int64_t>(refused.size());
  o.refusal_latency = Summarize(refused);
  o.goodput = seconds > 0 ? o.within_budget / seconds : 0;
  return o;
}

}  // namespace serval::perf
