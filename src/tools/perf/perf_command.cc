#include "tools/perf/perf_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "tools/perf/grpc_transport.h"
#include "tools/perf/http_transport.h"
#include "tools/perf/model_inputs.h"
#include "tools/perf/perf_runner.h"
#include "tools/perf/report.h"

namespace serval {
namespace perf {
namespace {

struct PerfOptions {
  std::string model;
  std::string version;
  std::string url;
  std::string protocol = "http";
  std::string encoding = "json";
  std::string concurrency_range;
  std::string rate_range;
  std::string distribution = "constant";
  std::string input_data = "random";
  std::vector<std::string> shapes;
  std::string int_range = "0:100";
  int64_t batch_size = 1;
  int64_t window_ms = 5000;
  double warmup_s = 2;
  double stability_percent = 10;
  int max_trials = 10;
  int max_connections = 256;
  int io_threads = 1;
  bool no_server_stats = false;
  bool no_progress = false;
  std::string csv;
  std::string json;
  uint64_t seed = 1;
  double latency_budget_ms = 0;
};

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// "NAME:d1,d2,..." -> (NAME, dims).
absl::Status ParseShape(const std::string& text,
                        std::map<std::string, std::vector<int64_t>>* shapes) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shape '", text, "': expected NAME:d1,d2,..."));
  }
  std::vector<int64_t> dims;
  for (absl::string_view d : absl::StrSplit(text.substr(colon + 1), ',')) {
    int64_t v;
    if (!absl::SimpleAtoi(d, &v) || v < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--shape '", text, "': bad dim '", d, "'"));
    }
    dims.push_back(v);
  }
  (*shapes)[text.substr(0, colon)] = dims;
  return absl::OkStatus();
}

absl::Status ParseTarget(PerfOptions& o, TargetOptions* t) {
  const std::string url = !o.url.empty()         ? o.url
                          : o.protocol == "grpc" ? "127.0.0.1:8001"
                                                 : "127.0.0.1:8000";
  RETURN_IF_ERROR(ParseHostPort("-u", url, &t->host, &t->port));
  t->model = o.model;
  t->version = o.version;
  t->max_connections = o.max_connections;
  t->io_threads = o.io_threads;
  t->binary = o.encoding == "binary";
  return absl::OkStatus();
}

absl::StatusOr<std::vector<InputTensor>> BuildInputs(const PerfOptions& o,
                                                     Transport* transport) {
  if (o.input_data != "random" && o.input_data != "zeros") {
    absl::StatusOr<std::string> text = ReadFile(o.input_data);
    if (!text.ok()) return text.status();
    return ParseInputsJson(*text);
  }
  absl::StatusOr<ModelInfo> model = transport->FetchModelInfo();
  if (!model.ok()) return model.status();
  InputOptions in;
  in.kind = o.input_data == "zeros" ? InputKind::kZeros : InputKind::kRandom;
  in.batch_size = o.batch_size;
  in.seed = o.seed;
  for (const std::string& s : o.shapes) {
    RETURN_IF_ERROR(ParseShape(s, &in.shapes));
  }
  std::vector<std::string> range = absl::StrSplit(o.int_range, ':');
  if (range.size() != 2 || !absl::SimpleAtoi(range[0], &in.int_min) ||
      !absl::SimpleAtoi(range[1], &in.int_max) || in.int_max <= in.int_min) {
    return absl::InvalidArgumentError(
        "--int-range: expected LOW:HIGH, LOW < HIGH");
  }
  return MakeInputs(*model, in);
}

int Run(PerfOptions& o) {
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "serval perf: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  if (o.concurrency_range.empty() == o.rate_range.empty() &&
      !o.rate_range.empty()) {
    return fail(absl::InvalidArgumentError(
        "give --concurrency-range or --request-rate-range, not both"));
  }
  const bool open_loop = !o.rate_range.empty();
  absl::StatusOr<std::vector<double>> levels = ParseRange(
      open_loop ? o.rate_range
                : (o.concurrency_range.empty() ? "1" : o.concurrency_range));
  if (!levels.ok()) return fail(levels.status());

  TargetOptions target;
  if (absl::Status s = ParseTarget(o, &target); !s.ok()) return fail(s);
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      o.protocol == "grpc" ? CreateGrpcTransport(target)
                           : CreateHttpTransport(target);
  if (!transport.ok()) return fail(transport.status());
  absl::StatusOr<std::vector<InputTensor>> inputs =
      BuildInputs(o, transport->get());
  if (!inputs.ok()) return fail(inputs.status());
  if (absl::Status s = (*transport)->SetInputs(*inputs); !s.ok())
    return fail(s);

  RunOptions run;
  run.window_ms = o.window_ms;
  run.warmup_ms = static_cast<int64_t>(o.warmup_s * 1000);
  run.stability_percent = o.stability_percent;
  run.max_trials = o.max_trials;
  run.batch_size = o.batch_size;
  run.server_stats = !o.no_server_stats;
  run.arrivals =
      o.distribution == "poisson" ? Arrivals::kPoisson : Arrivals::kConstant;
  run.seed = o.seed;
  run.latency_budget_ns = static_cast<int64_t>(o.latency_budget_ms * 1e6);

  // A live line on a terminal only: redirected output stays clean.
  const bool live = !o.no_progress && isatty(STDERR_FILENO);
  ProgressFn progress = [live](const std::string& line) {
    if (live) std::fprintf(stderr, "\r\033[K%s", line.c_str());
  };
  PerfRunner runner(transport->get(), run, progress);
  RunDescription desc{o.model,
                      o.protocol == "grpc" ? "grpc" : "http-" + o.encoding,
                      absl::StrCat(target.host, ":", target.port), o.batch_size,
                      o.latency_budget_ms};
  std::vector<StepResult> steps;
  for (double level : *levels) {
    steps.push_back(open_loop ? runner.RunRate(level)
                              : runner.RunConcurrency(static_cast<int>(level)));
    if (live) std::fprintf(stderr, "\r\033[K");
    const StepResult& s = steps.back();
    std::fprintf(stderr, "%s %g: %.1f req/s, p99 %.3f ms, %lld errors%s\n",
                 open_loop ? "rate" : "concurrency", level, s.throughput,
                 s.latency.p99_ns / 1e6, static_cast<long long>(s.errors),
                 s.stable ? "" : " (not stable)");
  }
  std::fputs(FormatTable(desc, steps).c_str(), stdout);
  std::fflush(stdout);
  if (!o.csv.empty()) {
    if (absl::Status s = WriteFile(o.csv, FormatCsv(desc, steps)); !s.ok())
      return fail(s);
  }
  if (!o.json.empty()) {
    if (absl::Status s = WriteFile(o.json, FormatJson(desc, steps)); !s.ok())
      return fail(s);
  }
  return 0;
}

}  // namespace

absl::Status ParseHostPort(const std::string& flag, const std::string& text,
                           std::string* host, int* port) {
  std::string t = text;
  if (t.rfind("http://", 0) == 0) t = t.substr(7);
  while (!t.empty() && t.back() == '/') t.pop_back();
  const size_t colon = t.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(t.substr(colon + 1), port) || *port <= 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", text, "': expected host:port"));
  }
  *host = t.substr(0, colon);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> ParseRange(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  double v[3] = {0, 0, 1};
  if (parts.empty() || parts.size() > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("range '", text, "': expected start[:end[:step]]"));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!absl::SimpleAtod(parts[i], &v[i]) || v[i] <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "range '", text, "': '", parts[i], "' is not a positive number"));
    }
  }
  if (parts.size() == 1) v[1] = v[0];
  if (v[1] < v[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat("range '", text, "': end < start"));
  }
  std::vector<double> out;
  for (double x = v[0]; x <= v[1] * (1 + 1e-9); x += v[2]) out.push_back(x);
  return out;
}

}  // namespace perf

void AddPerfCommand(CLI::App* app, int* exit_code) {
  auto opts = std::make_shared<perf::PerfOptions>();
  CLI::App* cmd = app->add_subcommand(
      "perf",
      "Measure a KServe v2 server: throughput and latency per concurrency "
      "(closed loop) or request rate (open loop), with the server's breakdown");
  perf::PerfOptions& o = *opts;
  cmd->add_option("-m,--model", o.model, "Model name")->required();
  cmd->add_option("-x,--model-version", o.version,
                  "Model version (default: server's choice)");
  cmd->add_option("-u,--url", o.url,
                  "host:port (default 127.0.0.1:8000, gRPC 127.0.0.1:8001)");
  cmd->add_option("-i,--protocol", o.protocol, "http or grpc")
      ->check(CLI::IsMember({"http", "grpc"}));
  cmd->add_option("--encoding", o.encoding,
                  "HTTP body: json, or binary (binary tensor extension)")
      ->check(CLI::IsMember({"json", "binary"}));
  cmd->add_option(
      "--concurrency-range", o.concurrency_range,
      "Closed loop: start[:end[:step]] requests in flight (default 1)");
  cmd->add_option("--request-rate-range", o.rate_range,
                  "Open loop: start[:end[:step]] requests per second");
  cmd->add_option("--request-distribution", o.distribution,
                  "Open loop arrivals: constant or poisson")
      ->check(CLI::IsMember({"constant", "poisson"}));
  cmd->add_option("--input-data", o.input_data,
                  "random, zeros, or a JSON file holding a KServe v2 request "
                  "({\"inputs\":[{name,shape,datatype,data}]})");
  cmd->add_option("--shape", o.shapes,
                  "NAME:d1,d2,... for inputs with variable dims (without the "
                  "batch dim); repeatable");
  cmd->add_option("--int-range", o.int_range,
                  "Random integer inputs lie in [LOW, HIGH) (default 0:100)");
  cmd->add_option("-b,--batch-size", o.batch_size, "Batch size per request")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-p,--measurement-interval", o.window_ms,
                  "Measurement window in ms (default 5000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o.warmup_s,
                  "Warm-up seconds per step (default 2)");
  cmd->add_option("-s,--stability-percentage", o.stability_percent,
                  "Throughput and p99 of 3 windows within this % (default 10)");
  cmd->add_option("-r,--max-trials", o.max_trials,
                  "Windows per step at most (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections", o.max_connections,
                  "HTTP connections at most; more requests wait client-side "
                  "(default 256)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--io-threads", o.io_threads,
                  "HTTP client io threads (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-server-stats", o.no_server_stats,
                "Do not read the statistics endpoint (servers without it)");
  cmd->add_flag("--no-progress", o.no_progress, "No live progress line");
  cmd->add_option("--csv", o.csv, "Write the results as CSV to this file");
  cmd->add_option("--json", o.json, "Write the results as JSON to this file");
  cmd->add_option("--latency-budget-ms", o.latency_budget_ms,
                  "Goodput: count successes answered within this many ms "
                  "(refusals - HTTP 503/429, gRPC UNAVAILABLE/"
                  "RESOURCE_EXHAUSTED - and other errors are reported apart)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o.seed,
                  "Seed of random inputs and Poisson arrivals");
  cmd->callback([opts, exit_code] { *exit_code = perf::Run(*opts); });
}

}  // namespace serval
