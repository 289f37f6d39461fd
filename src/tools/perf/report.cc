#include "tools/perf/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace serval::perf {
namespace {

double Ms(double ns) { return ns / 1e6; }

std::string ErrorsText(const StepResult& s) {
  if (s.errors == 0) return "0";
  std::vector<std::string> parts;
  for (const auto& [code, n] : s.errors_by_code) {
    parts.push_back(absl::StrCat(code, " x", n));
  }
  return absl::StrCat(s.errors, " (", absl::StrJoin(parts, ", "), ")");
}

std::string LevelText(const StepResult& s) {
  return s.open_loop ? absl::StrFormat("%.1f/s", s.level)
                     : absl::StrFormat("%.0f", s.level);
}

}  // namespace

std::string FormatTable(const RunDescription& run,
                        const std::vector<StepResult>& steps) {
  std::string out =
      absl::StrFormat("model %s, %s to %s, batch size %d\n", run.model,
                      run.protocol, run.target, run.batch_size);
  const bool open = !steps.empty() && steps[0].open_loop;
  absl::StrAppendFormat(&out,
                        "%-10s %10s %7s %8s %8s %8s %8s %8s %8s %7s %7s | %8s "
                        "%8s %8s %8s %8s %6s | %s\n",
                        open ? "rate" : "conc", "req/s", "spread", "avg ms",
                        "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms",
                        "send us", "recv us", "srv us", "queue", "c_in",
                        "c_infer", "c_out", "batch", "errors");
  for (const StepResult& s : steps) {
    absl::StrAppendFormat(
        &out,
        "%-10s %10.1f %6.1f%% %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %7.1f %7.1f "
        "| ",
        LevelText(s), s.throughput, s.throughput_spread, Ms(s.latency.avg_ns),
        Ms(s.latency.p50_ns), Ms(s.latency.p90_ns), Ms(s.latency.p95_ns),
        Ms(s.latency.p99_ns), Ms(s.latency.max_ns), s.send_us, s.recv_us);
    if (s.server.valid) {
      absl::StrAppendFormat(&out, "%8.1f %8.1f %8.1f %8.1f %8.1f %6.2f | ",
                            s.server.request_us, s.server.queue_us,
                            s.server.compute_input_us,
                            s.server.compute_infer_us,
                            s.server.compute_output_us, s.server.avg_batch);
    } else {
      absl::StrAppendFormat(&out, "%8s %8s %8s %8s %8s %6s | ", "-", "-", "-",
                            "-", "-", "-");
    }
    absl::StrAppend(&out, ErrorsText(s));
    if (run.latency_budget_ms > 0 || s.refusals > 0) {
      absl::StrAppendFormat(&out, " [goodput %.1f/s", s.goodput);
      if (run.latency_budget_ms > 0) {
        absl::StrAppendFormat(&out, " within %g ms", run.latency_budget_ms);
      }
      absl::StrAppendFormat(&out, "; refused %d, p99 %.3f ms; other errors %d]",
                            s.refusals, Ms(s.refusal_latency.p99_ns),
                            s.other_errors);
    }
    if (!s.stable) absl::StrAppend(&out, " [not stable]");
    if (!s.drained) absl::StrAppend(&out, " [not drained]");
    if (s.open_loop) {
      absl::StrAppendFormat(&out, " [send lag avg %.1f ms, max %.1f ms]",
                            s.lag_avg_us / 1e3, s.lag_max_us / 1e3);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string FormatCsv(const RunDescription& run,
                      const std::vector<StepResult>& steps) {
  std::string out =
      "model,protocol,batch_size,mode,level,windows,stable,seconds,"
      "throughput_rps,throughput_spread_pct,inferences_per_s,successes,errors,"
      "latency_avg_us,latency_p50_us,latency_p90_us,latency_p95_us,"
      "latency_p99_us,latency_max_us,client_send_us,client_recv_us,"
      "client_send_lag_avg_us,client_send_lag_max_us,"
      "server_request_us,server_queue_us,server_compute_input_us,"
      "server_compute_infer_us,server_compute_output_us,server_avg_batch,"
      "errors_by_code,goodput_rps,within_budget,refusals,refusal_p50_us,"
      "refusal_p99_us,other_errors\n";
  for (const StepResult& s : steps) {
    std::vector<std::string> codes;
    for (const auto& [code, n] : s.errors_by_code) {
      codes.push_back(absl::StrCat(code, "=", n));
    }
    absl::StrAppendFormat(
        &out,
        "%s,%s,%d,%s,%g,%d,%d,%.3f,%.2f,%.2f,%.2f,%d,%d,%.1f,%.1f,%.1f,%.1f,%."
        "1f,%.1f,%.1f,%.1f,%.1f,%.1f,",
        run.model, run.protocol, run.batch_size,
        s.open_loop ? "rate" : "concurrency", s.level, s.windows,
        s.stable ? 1 : 0, s.seconds, s.throughput, s.throughput_spread,
        s.inferences_per_s, s.successes, s.errors, s.latency.avg_ns / 1e3,
        s.latency.p50_ns / 1e3, s.latency.p90_ns / 1e3, s.latency.p95_ns / 1e3,
        s.latency.p99_ns / 1e3, s.latency.max_ns / 1e3, s.send_us, s.recv_us,
        s.lag_avg_us, s.lag_max_us);
    if (s.server.valid) {
      absl::StrAppendFormat(&out, "%.1f,%.1f,%.1f,%.1f,%.1f,%.3f,",
                            s.server.request_us, s.server.queue_us,
                            s.server.compute_input_us,
                            s.server.compute_infer_us,
                            s.server.compute_output_us, s.server.avg_batch);
    } else {
      absl::StrAppend(&out, ",,,,,,");
    }
    absl::StrAppendFormat(&out, "\"%s\",%.2f,%d,%d,%.1f,%.1f,%d\n",
                          absl::StrJoin(codes, ";"), s.goodput, s.within_budget,
                          s.refusals, s.refusal_latency.p50_ns / 1e3,
                          s.refusal_latency.p99_ns / 1e3, s.other_errors);
  }
  return out;
}

std::string FormatJson(const RunDescription& run,
                       const std::vector<StepResult>& steps) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  auto key_num = [&w](const char* k, double v) {
    w.Key(k);
    w.Double(v);
  };
  auto key_int = [&w](const char* k, int64_t v) {
    w.Key(k);
    w.Int64(v);
  };
  w.StartObject();
  w.Key("model");
  w.String(run.model.c_str());
  w.Key("protocol");
  w.String(run.protocol.c_str());
  w.Key("target");
  w.String(run.target.c_str());
  key_int("batch_size", run.batch_size);
  key_num("latency_budget_ms", run.latency_budget_ms);
  w.Key("steps");
  w.StartArray();
  for (const StepResult& s : steps) {
    w.StartObject();
    w.Key("mode");
    w.String(s.open_loop ? "rate" : "concurrency");
    key_num("level", s.level);
    key_int("windows", s.windows);
    w.Key("stable");
    w.Bool(s.stable);
    w.Key("drained");
    w.Bool(s.drained);
    key_num("seconds", s.seconds);
    key_num("throughput_rps", s.throughput);
    key_num("throughput_spread_pct", s.throughput_spread);
    key_num("inferences_per_s", s.inferences_per_s);
    key_int("successes", s.successes);
    key_int("errors", s.errors);
    w.Key("errors_by_code");
    w.StartObject();
    for (const auto& [code, n] : s.errors_by_code) {
      w.Key(code.c_str());
      w.Int64(n);
    }
    w.EndObject();
    key_num("goodput_rps", s.goodput);
    key_int("within_budget", s.within_budget);
    key_int("refusals", s.refusals);
    key_int("other_errors", s.other_errors);
    w.Key("refusal_latency_us");
    w.StartObject();
    key_num("p50", s.refusal_latency.p50_ns / 1e3);
    key_num("p99", s.refusal_latency.p99_ns / 1e3);
    key_num("max", s.refusal_latency.max_ns / 1e3);
    w.EndObject();
    w.Key("latency_us");
    w.StartObject();
    key_num("avg", s.latency.avg_ns / 1e3);
    key_num("p50", s.latency.p50_ns / 1e3);
    key_num("p90", s.latency.p90_ns / 1e3);
    key_num("p95", s.latency.p95_ns / 1e3);
    key_num("p99", s.latency.p99_ns / 1e3);
    key_num("max", s.latency.max_ns / 1e3);
    w.EndObject();
    w.Key("client_us");
    w.StartObject();
    key_num("send", s.send_us);
    key_num("recv", s.recv_us);
    key_num("send_lag_avg", s.lag_avg_us);
    key_num("send_lag_max", s.lag_max_us);
    w.EndObject();
    w.Key("server_us");
    if (s.server.valid) {
      w.StartObject();
      key_int("requests", s.server.requests);
      key_num("request", s.server.request_us);
      key_num("queue", s.server.queue_us);
      key_num("compute_input", s.server.compute_input_us);
      key_num("compute_infer", s.server.compute_infer_us);
      key_num("compute_output", s.server.compute_output_us);
      key_num("avg_batch", s.server.avg_batch);
      w.EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(b.GetString(), b.GetSize()) + "\n";
}

}  // namespace serval::perf
