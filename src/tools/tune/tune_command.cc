#include "tools/tune/tune_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/perf/perf_command.h"
#include "tools/tune/serval_launcher.h"
#include "tools/tune/tuner.h"

namespace serval {
namespace tune {
namespace {

struct TuneCli {
  std::vector<std::string> models;
  std::string url;
  std::string metrics_url;
  std::string grpc_url;
  std::vector<std::string> repositories;
  std::string backend_directory;
  std::string protocol = "http";
  std::string encoding = "binary";
  std::string search = "quick";
  std::string objective;
  double max_p99_ms = 0;
  double min_throughput = 0;
  double max_rss_mb = 0;
  double request_rate = 0;
  std::string concurrency, instances, threads, max_batch, delay_us, preferred;
  int cores = 0;
  int64_t window_ms = 1000;
  double warmup_s = 0.5;
  double stability_percent = 10;
  int max_windows = 5;
  int max_trials = 0;
  int confirm = 3;
  double time_limit_min = 0;
  double start_load = 0;
  std::string output_dir;
  std::string config_out;
  bool write = false;
  bool apply = false;
  bool fresh = false;
  bool no_progress = false;
  uint64_t seed = 1;
};

std::atomic<bool> g_stop{false};

void OnInterrupt(int) {
  // A first Ctrl-C finishes the trial, restores the server and writes the
  // outputs; a second one ends the process at once.
  if (g_stop.exchange(true)) {
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
  }
}

template <typename T>
absl::Status ParseList(const std::string& flag, const std::string& text,
                       std::vector<T>* out) {
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    T v{};
    bool ok;
    if constexpr (std::is_same_v<T, double>) {
      ok = absl::SimpleAtod(part, &v);
    } else {
      ok = absl::SimpleAtoi(part, &v);
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": '", part, "' is not a number"));
    }
    out->push_back(v);
  }
  return absl::OkStatus();
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, n) : "serval";
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "serval tune: %s\n", std::string(s.message()).c_str());
  return 1;
}

int Run(TuneCli& o) {
  TunerOptions t;
  for (const std::string& m : o.models) {
    for (absl::string_view part : absl::StrSplit(m, ',', absl::SkipEmpty())) {
      t.models.emplace_back(part);
    }
  }
  const bool open_loop = o.request_rate > 0;
  if (open_loop && !o.concurrency.empty()) {
    return Fail(absl::InvalidArgumentError(
        "give --request-rate or --concurrency, not both"));
  }
  if (open_loop && o.max_p99_ms <= 0) {
    return Fail(absl::InvalidArgumentError(
        "--request-rate needs --max-p99-ms: the cheapest configuration "
        "that serves the rate within that p99"));
  }
  std::string objective = o.objective;
  if (objective.empty()) objective = open_loop ? "cpu" : "throughput";
  absl::StatusOr<Objective> parsed = ParseObjective(objective);
  if (!parsed.ok()) return Fail(parsed.status());
  t.objective = *parsed;
  t.objective.max_p99_ms = o.max_p99_ms;
  t.objective.max_rss_mb = o.max_rss_mb;
  t.objective.min_throughput = o.min_throughput;
  // Serving the rate means answering (nearly) all of it: Poisson windows
  // vary, so a few percent under the offered rate still serves it.
  if (open_loop) {
    t.objective.min_throughput =
        std::max(o.min_throughput, 0.95 * o.request_rate);
  }

  SpaceOptions& sp = t.space;
  sp.open_loop = open_loop;
  sp.cores =
      o.cores > 0
          ? o.cores
          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (auto [flag, text, list] :
       {std::tuple{"--instances", &o.instances, &sp.instances},
        std::tuple{"--threads", &o.threads, &sp.threads},
        std::tuple{"--max-batch-size", &o.max_batch, &sp.max_batch}}) {
    if (absl::Status s = ParseList(flag, *text, list); !s.ok()) return Fail(s);
  }
  if (absl::Status s = ParseList("--queue-delay-us", o.delay_us, &sp.delay_us);
      !s.ok())
    return Fail(s);
  if (absl::Status s = ParseList("--concurrency", o.concurrency, &sp.load);
      !s.ok())
    return Fail(s);
  if (open_loop) sp.load = {o.request_rate};
  for (absl::string_view p :
       absl::StrSplit(o.preferred, ',', absl::SkipEmpty())) {
    sp.preferred.emplace_back(p);
  }
  t.brute = o.search == "brute";
  t.max_trials = o.max_trials > 0 ? o.max_trials : (t.brute ? 0 : 80);
  t.time_limit_s = o.time_limit_min * 60;
  t.apply = o.apply;
  t.confirm = o.confirm;
  t.fresh = o.fresh;
  if (o.start_load > 0) t.search.start_load = o.start_load;
  t.output_dir =
      o.output_dir.empty() ? absl::StrCat("tune-", t.models[0]) : o.output_dir;
  t.config_out = o.config_out.empty()
                     ? absl::StrCat(t.output_dir, "/config.pbtxt")
                     : o.config_out;
  struct stat st;
  if (!o.config_out.empty() && !o.write &&
      stat(o.config_out.c_str(), &st) == 0) {
    return Fail(absl::AlreadyExistsError(absl::StrCat(
        "--config-out ", o.config_out,
        " exists; pass --write to replace it, or choose another path")));
  }

  MeasureOptions m;
  m.protocol = o.protocol;
  m.binary = o.encoding == "binary";
  m.open_loop = open_loop;
  m.run.window_ms = o.window_ms;
  m.run.warmup_ms = static_cast<int64_t>(o.warmup_s * 1000);
  m.run.stability_percent = o.stability_percent;
  m.run.max_trials = o.max_windows;
  m.run.arrivals =
      open_loop ? perf::Arrivals::kPoisson : perf::Arrivals::kConstant;
  m.run.seed = o.seed;
  m.inputs.seed = o.seed;
  t.measurement = absl::StrFormat(
      "%s-%s, window %d ms, warm-up %g s, stability %g%%, <= %d windows, "
      "%s, seed %d, %d cores",
      o.protocol, o.encoding, o.window_ms, o.warmup_s, o.stability_percent,
      o.max_windows, open_loop ? "poisson" : "closed loop", o.seed, sp.cores);

  // The server: the one at --url, or our own.
  std::optional<ServalProcess> own;
  std::string host = "127.0.0.1";
  std::string metrics_host;
  int http_port = 8000, metrics_port = 8002;
  if (!o.repositories.empty()) {
    if (!o.url.empty()) {
      return Fail(absl::InvalidArgumentError(
          "give --url (a running serval) or --model-repository (tune starts "
          "one), not both"));
    }
    std::error_code ec;
    std::filesystem::create_directories(t.output_dir, ec);
    LaunchOptions lo;
    lo.serval = SelfPath();
    lo.repositories = o.repositories;
    lo.models = t.models;
    lo.backend_directory = o.backend_directory;
    lo.log_path = absl::StrCat(t.output_dir, "/server.log");
    std::fprintf(stderr, "starting serval on %s (log %s)\n",
                 absl::StrJoin(o.repositories, ", ").c_str(),
                 lo.log_path.c_str());
    absl::StatusOr<ServalProcess> p = ServalProcess::Start(lo);
    if (!p.ok()) return Fail(p.status());
    own = std::move(*p);
    http_port = own->http_port();
    metrics_port = own->metrics_port();
    m.grpc_port = own->grpc_port();
  } else {
    if (absl::Status s = perf::ParseHostPort(
            "--url", o.url.empty() ? "127.0.0.1:8000" : o.url, &host,
            &http_port);
        !s.ok())
      return Fail(s);
    if (o.metrics_url == "none") {
      metrics_port = 0;
    } else if (!o.metrics_url.empty()) {
      if (absl::Status s = perf::ParseHostPort("--metrics-url", o.metrics_url,
                                               &metrics_host, &metrics_port);
          !s.ok())
        return Fail(s);
    }
    if (o.protocol == "grpc") {
      if (absl::Status s = perf::ParseHostPort(
              "--grpc-url", o.grpc_url.empty() ? host + ":8001" : o.grpc_url,
              &m.grpc_host, &m.grpc_port);
          !s.ok())
        return Fail(s);
    }
  }
  if ((t.objective.memory > 0 || t.objective.cpu > 0 || o.max_rss_mb > 0) &&
      metrics_port == 0) {
    return Fail(absl::InvalidArgumentError(
        "memory and CPU come from the server's /metrics: give --metrics-url"));
  }
  ServerClient client(host, http_port,
                      metrics_host.empty() ? host : metrics_host, metrics_port);

  const bool live = !o.no_progress && isatty(STDERR_FILENO);
  TunerOutput out;
  out.line = [live](const std::string& line) {
    std::fprintf(stderr, "%s%s\n", live ? "\r\033[K" : "", line.c_str());
  };
  out.live = [live](const std::string& line) {
    if (live) std::fprintf(stderr, "\r\033[K%s", line.c_str());
  };
  g_stop = false;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  Tuner tuner(&client, m, t, out, [] { return g_stop.load(); });
  absl::Status s = tuner.Run();
  signal(SIGINT, SIG_DFL);
  if (own) own->Stop();
  if (!s.ok()) return Fail(s);
  std::fprintf(stderr, "report: %s/report.html\n", t.output_dir.c_str());
  return g_stop ? 130 : 0;
}

}  // namespace
}  // namespace tune

void AddTuneCommand(CLI::App* app, int* exit_code) {
  auto opts = std::make_shared<tune::TuneCli>();
  tune::TuneCli& o = *opts;
  CLI::App* cmd = app->add_subcommand(
      "tune",
      "Find the best configuration of a model (instances x threads, batching, "
      "queue delay, format) for an objective under constraints, by hot reload "
      "on a running serval in explicit mode or on one it starts; writes the "
      "winning config.pbtxt, every trial as CSV and JSON, and an HTML report");
  cmd->add_option("-m,--model", o.models,
                  "Model to tune; several (comma-separated or repeated) are "
                  "alternatives to choose from, e.g. the _onnx and _torch "
                  "twins of one network")
      ->required();
  cmd->add_option("-u,--url", o.url,
                  "HTTP host:port of a serval in explicit model control mode "
                  "(default 127.0.0.1:8000)");
  cmd->add_option("--metrics-url", o.metrics_url,
                  "host:port of its /metrics, for RSS and CPU (default the "
                  "--url host, port 8002; 'none': not measured)");
  cmd->add_option("--grpc-url", o.grpc_url,
                  "gRPC host:port when -i grpc (default the --url host, port "
                  "8001)");
  cmd->add_option(
      "--model-repository", o.repositories,
      "Start a serval of our own on this repository (repeatable), "
      "on free loopback ports, instead of --url; stopped at the end");
  cmd->add_option("--backend-directory", o.backend_directory,
                  "With --model-repository: the server's backend directory");
  cmd->add_option("-i,--protocol", o.protocol, "http or grpc (default http)")
      ->check(CLI::IsMember({"http", "grpc"}));
  cmd->add_option("--encoding", o.encoding,
                  "HTTP body: binary (default) or json")
      ->check(CLI::IsMember({"json", "binary"}));
  cmd->add_option("--search", o.search,
                  "quick: hill climbing from the model's own configuration and "
                  "a few seeds (default); brute: every point of the space")
      ->check(CLI::IsMember({"quick", "brute"}));
  cmd->add_option("--objective", o.objective,
                  "throughput (default), p99, memory, cpu, or weights such as "
                  "throughput=1,p99=0.5 (each term relative to the default "
                  "configuration); with --request-rate the default is cpu");
  cmd->add_option("--max-p99-ms", o.max_p99_ms,
                  "Constraint: p99 latency at most this many ms")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--min-throughput", o.min_throughput,
                  "Constraint: at least this many successful requests/s")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-rss-mb", o.max_rss_mb,
                  "Constraint: server resident memory at most this many MB")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--request-rate", o.request_rate,
                  "Request-rate mode: offer this many requests/s (Poisson) and "
                  "find the cheapest configuration (least CPU) serving them "
                  "within --max-p99-ms")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--concurrency", o.concurrency,
                  "Closed-loop loads to try, comma-separated (default "
                  "1,2,4,...,128)");
  cmd->add_option("--instances", o.instances,
                  "Instance counts to try (default 1,2,4,... up to the cores)");
  cmd->add_option("--threads", o.threads,
                  "Intra-op threads per instance to try (default 1,2,4,... up "
                  "to the cores; instances x threads never exceed --cores)");
  cmd->add_option("--max-batch-size", o.max_batch,
                  "max_batch_size values to try (default 1,2,4,... up to twice "
                  "the model's)");
  cmd->add_option("--queue-delay-us", o.delay_us,
                  "max_queue_delay_microseconds values (default "
                  "0,100,1000,5000 and the model's)");
  cmd->add_option("--preferred", o.preferred,
                  "preferred_batch_size choices: none, max, or sizes joined "
                  "by ';' (default none,max)");
  cmd->add_option("--cores", o.cores,
                  "Cores the server may use (default: this machine's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--start-load", o.start_load,
                  "Concurrency the default configuration is measured at first "
                  "(default 8)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-p,--measurement-interval", o.window_ms,
                  "Measurement window in ms (default 1000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o.warmup_s,
                  "Warm-up seconds per trial (default 0.5)");
  cmd->add_option("-s,--stability-percentage", o.stability_percent,
                  "Throughput and p99 of 3 windows within this % (default 10)");
  cmd->add_option("-r,--max-windows", o.max_windows,
                  "Windows per trial at most (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-trials", o.max_trials,
                  "Measure at most this many trials (default 80 for quick, no "
                  "limit for brute)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--confirm", o.confirm,
                  "Measure the best N configurations (and the default) once "
                  "more and choose on the mean of both runs (default 3; 0: "
                  "off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--time-limit-min", o.time_limit_min,
                  "Start no trial after this many minutes")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-o,--output-dir", o.output_dir,
                  "Where trials.json, trials.csv, report.html and the best "
                  "config.pbtxt go (default tune-MODEL); a run resumes from "
                  "its trials.json");
  cmd->add_option("--config-out", o.config_out,
                  "Write the best config.pbtxt here instead (an existing file "
                  "only with --write)");
  cmd->add_flag("--write", o.write, "Allow --config-out to replace a file");
  cmd->add_flag("--apply", o.apply,
                "Leave the best configuration loaded on the server (default: "
                "the configuration it was serving is reloaded)");
  cmd->add_flag("--fresh", o.fresh,
                "Ignore the results of an earlier run in --output-dir");
  cmd->add_flag("--no-progress", o.no_progress, "No live progress line");
  cmd->add_option("--seed", o.seed, "Seed of random inputs and arrivals");
  cmd->callback([opts, exit_code] { *exit_code = tune::Run(*opts); });
}

}  // namespace serval
