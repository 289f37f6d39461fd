#include "tools/perf/server_stats.h"

#include <simdjson.h>

#include "absl/strings/str_cat.h"

namespace serval::perf {
namespace {

Duration Minus(const Duration& a, const Duration& b) {
  // Counters only grow; a reload can reset them, which must not underflow.
  return {a.count >= b.count ? a.count - b.count : 0,
          a.ns >= b.ns ? a.ns - b.ns : 0};
}

void Add(Duration& a, const Duration& b) {
  a.count += b.count;
  a.ns += b.ns;
}

double AvgUs(const Duration& d) {
  return d.count == 0 ? 0 : static_cast<double>(d.ns) / d.count / 1000.0;
}

Duration ReadDuration(simdjson::dom::element stats, const char* key) {
  Duration d;
  uint64_t v;
  if (!stats[key]["count"].get(v)) d.count = v;
  if (!stats[key]["ns"].get(v)) d.ns = v;
  return d;
}

}  // namespace

ServerStats& ServerStats::operator+=(const ServerStats& o) {
  inference_count += o.inference_count;
  execution_count += o.execution_count;
  Add(success, o.success);
  Add(fail, o.fail);
  Add(queue, o.queue);
  Add(compute_input, o.compute_input);
  Add(compute_infer, o.compute_infer);
  Add(compute_output, o.compute_output);
  return *this;
}

ServerStats Delta(const ServerStats& before, const ServerStats& after) {
  ServerStats d;
  d.inference_count = after.inference_count >= before.inference_count
                          ? after.inference_count - before.inference_count
                          : 0;
  d.execution_count = after.execution_count >= before.execution_count
                          ? after.execution_count - before.execution_count
                          : 0;
  d.success = Minus(after.success, before.success);
  d.fail = Minus(after.fail, before.fail);
  d.queue = Minus(after.queue, before.queue);
  d.compute_input = Minus(after.compute_input, before.compute_input);
  d.compute_infer = Minus(after.compute_infer, before.compute_infer);
  d.compute_output = Minus(after.compute_output, before.compute_output);
  return d;
}

ServerBreakdown Breakdown(const ServerStats& d) {
  ServerBreakdown b;
  b.valid = true;
  b.requests = d.success.count;
  b.request_us = AvgUs(d.success);
  b.queue_us = AvgUs(d.queue);
  b.compute_input_us = AvgUs(d.compute_input);
  b.compute_infer_us = AvgUs(d.compute_infer);
  b.compute_output_us = AvgUs(d.compute_output);
  b.avg_batch =
      d.execution_count == 0
          ? 0
          : static_cast<double>(d.inference_count) / d.execution_count;
  return b;
}

absl::StatusOr<ServerStats> ParseStatsJson(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::padded_string text(body.data(), body.size());
  simdjson::dom::element doc;
  if (auto e = parser.parse(text).get(doc); e) {
    return absl::InvalidArgumentError(
        absl::StrCat("statistics: ", simdjson::error_message(e)));
  }
  simdjson::dom::array models;
  if (doc["model_stats"].get_array().get(models)) {
    return absl::InvalidArgumentError("statistics: no 'model_stats' array");
  }
  ServerStats total;
  for (simdjson::dom::element m : models) {
    ServerStats s;
    uint64_t v;
    if (!m["inference_count"].get(v)) s.inference_count = v;
    if (!m["execution_count"].get(v)) s.execution_count = v;
    simdjson::dom::element i;
    if (!m["inference_stats"].get(i)) {
      s.success = ReadDuration(i, "success");
      s.fail = ReadDuration(i, "fail");
      s.queue = ReadDuration(i, "queue");
      s.compute_input = ReadDuration(i, "compute_input");
      s.compute_infer = ReadDuration(i, "compute_infer");
      s.compute_output = ReadDuration(i, "compute_output");
    }
    total += s;
  }
  return total;
}

}  // namespace serval::perf
