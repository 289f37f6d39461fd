#include "server/serve_command.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/absl_compat.h"
#include "common/executor.h"
#include "common/logging.h"
#include "frontend/grpc/grpc_options.h"
#include "frontend/http/http_options.h"
#include "lifecycle/model_loader.h"
#include "lifecycle/model_manager.h"
#include "lifecycle/repository_poller.h"
#include "metrics/metrics_options.h"
#include "repository/storage/open_store.h"
#include "server/frontends.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

namespace serval {
namespace {

struct ServeOptions {
  std::vector<std::string> repositories;
  std::string backend_directory;
  std::string log_level = "info";
  std::string log_format = "text";
  int load_threads = 4;
  bool allow_http = true;
  int metrics_port = 8002;
  bool allow_metrics = true;
  std::string metrics_address = "0.0.0.0";
  std::string metrics_latency_buckets;  // empty: the defaults
  bool log_access = false;
  http::HttpOptions http;
  GrpcOptions grpc;
  // Model lifecycle (docs/lifecycle.md).
  std::string control_mode = "none";
  double repository_poll_secs = 15;
  std::string model_cache_directory;
  int s3_max_attempts = 5;
  double s3_timeout_secs = 30;
  int s3_download_threads = 8;
  std::vector<std::string> load_models;
  int exit_timeout_secs = 30;
  bool strict_readiness = false;
  uint64_t max_upload_bytes = uint64_t{1} << 30;
  std::string upload_directory;
  std::vector<std::string> trace_config;
  std::string server_name = kServerName;
  TraceSettings trace;  // parsed from trace_config
};

// Where the plugins are when the user does not say: beside the binary, as
// scripts/build.sh lays them out (build/serval, build/backends/...).
std::string DefaultBackendDirectory() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "backends";
  return (exe.parent_path() / "backends").string();
}

// Graceful shutdown, first part: not ready and refusing new work at once,
// then the requests already admitted finish (bounded by
// --exit-timeout-secs). A second SIGTERM/SIGINT during the drain cuts it
// short (the signals stay blocked, so it is taken by sigtimedwait).
void Drain(const ServeOptions& o, const sigset_t& signals, Server& server,
           RepositoryPoller* poller) {
  server.BeginShutdown();
  if (poller != nullptr) poller->Stop();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(o.exit_timeout_secs);
  size_t left = server.InFlight();
  while (left > 0 && std::chrono::steady_clock::now() < deadline) {
    left = server.WaitForDrain(std::chrono::milliseconds(100));
    const timespec no_wait{0, 0};
    const int second =
        left > 0 ? sigtimedwait(&signals, nullptr, &no_wait) : -1;
    if (second == SIGTERM || second == SIGINT) {
      spdlog::warn("second signal: not waiting for in-flight requests");
      break;
    }
  }
  if (left > 0) {
    spdlog::warn("{} request(s) still in flight after {} s; stopping anyway",
                 left, o.exit_timeout_secs);
  } else {
    // The last answers were handed to the frontends; let their I/O threads
    // write them before the connections close.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// Checks the flags that need more than CLI11 can say, and initializes
// logging. Returns the exit code to stop with, or 0 to go on.
int Prepare(ServeOptions& o, MetricsOptions* metrics) {
  absl::Status logging =
      InitLogging(o.log_level,
                  o.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  if (!logging.ok()) {
    std::fprintf(stderr, "serval: %s\n",
                 std::string(logging.message()).c_str());
    return 2;
  }
  if (o.backend_directory.empty())
    o.backend_directory = DefaultBackendDirectory();
  SetAccessLogEnabled(o.log_access);
  metrics->enabled = o.allow_metrics;
  if (!o.metrics_latency_buckets.empty()) {
    auto buckets = ParseBuckets(o.metrics_latency_buckets);
    if (!buckets.ok()) {
      spdlog::critical("--metrics-latency-buckets: {}",
                       ToStd(buckets.status().message()));
      return 2;
    }
    metrics->latency_buckets_s = std::move(*buckets);
  }
  auto trace = ParseTraceConfig(o.trace_config);
  if (!trace.ok()) {
    spdlog::critical("{}", ToStd(trace.status().message()));
    return 2;
  }
  o.trace = std::move(*trace);
  return 0;
}

int Serve(ServeOptions& o) {
  MetricsOptions metrics;
  if (int exit_code = Prepare(o, &metrics); exit_code != 0) return exit_code;

  // Signals are taken synchronously by this thread; every thread started
  // after this point inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Composition root. Declaration order is destruction order reversed:
  // the reaper (which destroys retired model versions) outlives everything
  // that may drop the last handle of one.
  ThreadPool reaper(1, "reaper");
  // Ensembles are loaded before the server that runs their steps exists.
  LateStepDispatcher steps;
  BackendLoaderOptions lo;
  lo.backend_directory = o.backend_directory;
  lo.metrics = metrics;
  lo.reaper = &reaper;
  lo.steps = &steps;
  BackendVersionLoader loader(lo);
  ManagerOptions mo;
  mo.repositories = o.repositories;
  StoreOptions store_options;
  store_options.cache.cache_directory = o.model_cache_directory;
  store_options.cache.download_threads = o.s3_download_threads;
  store_options.s3.max_attempts = o.s3_max_attempts;
  store_options.s3.timeout =
      std::chrono::milliseconds(static_cast<int64_t>(o.s3_timeout_secs * 1000));
  for (const std::string& root : o.repositories) {
    auto store = OpenModelStore(root, store_options);
    if (!store.ok()) {
      spdlog::critical("{}", ToStd(store.status().message()));
      return 1;
    }
    mo.stores.push_back(*std::move(store));
  }
  mo.loader = &loader;
  mo.load_threads = o.load_threads;
  mo.control_mode = *ParseModelControlMode(o.control_mode);  // CLI-checked
  mo.startup_models = o.load_models;
  mo.upload_directory = o.upload_directory;
  mo.upload_limits.max_total_bytes = o.max_upload_bytes;
  ModelManager manager(mo);
  ServerOptions so;
  so.strict_readiness = o.strict_readiness;
  so.trace = o.trace;
  so.name = o.server_name;
  so.private_directories = {{o.backend_directory, "<backend directory>"}};
  if (!o.upload_directory.empty()) {
    so.private_directories.emplace_back(o.upload_directory,
                                        "<upload directory>");
  }
  if (!o.model_cache_directory.empty()) {
    so.private_directories.emplace_back(o.model_cache_directory,
                                        "<model cache>");
  }
  Server server(&manager, so);
  steps.Bind(&server);
  // Unbound before the server goes: a step dispatched later fails instead.
  struct Unbind {
    LateStepDispatcher* steps;
    ~Unbind() { steps->Bind(nullptr); }
  } unbind{&steps};

  spdlog::info(
      "serval {} starting: repositories [{}], backends in {}, model "
      "control mode {}",
      kServerVersion, fmt::join(o.repositories, ", "), o.backend_directory,
      o.control_mode);

  // Frontends first: live at once, ready (200) only after the start-up load.
  FrontendOptions fo;
  fo.allow_http = o.allow_http;
  fo.http = o.http;
  fo.grpc = o.grpc;
  fo.allow_metrics = o.allow_metrics;
  fo.metrics_address = o.metrics_address;
  fo.metrics_port = o.metrics_port;
  auto frontends = Frontends::Start(fo, &server, &manager);
  if (!frontends.ok()) {
    spdlog::critical("{}", ToStd(frontends.status().message()));
    return 1;
  }

  std::unique_ptr<RepositoryPoller> poller;
  if (mo.control_mode == ModelControlMode::kPoll) {
    poller = std::make_unique<RepositoryPoller>(
        &manager, std::chrono::milliseconds(
                      static_cast<int64_t>(o.repository_poll_secs * 1000)));
    poller->Prime();
  }
  absl::Status loaded = manager.LoadAll();
  if (!loaded.ok()) {
    spdlog::critical("cannot read the model repository: {}",
                     ToStd(loaded.message()));
    return 1;
  }
  if (poller) poller->Start();

  size_t ready = 0, failed = 0;
  for (const auto& s : manager.Index()) {
    (s.state == VersionState::kReady ? ready : failed)++;
  }
  server.SetReady(true);
  spdlog::info("serval ready: {} model version(s) ready, {} failed", ready,
               failed);

  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    // SIGHUP: new certificates for new connections; serving goes on.
    if (absl::Status reloaded = (*frontends)->ReloadTls(); !reloaded.ok()) {
      spdlog::error("SIGHUP: {}", ToStd(reloaded.message()));
    } else {
      spdlog::info("SIGHUP: TLS certificates reloaded where TLS is on");
    }
  }
  spdlog::info(
      "received {}, shutting down: draining in-flight requests for "
      "up to {} s",
      strsignal(signal_number), o.exit_timeout_secs);
  Drain(o, signals, server, poller.get());
  (*frontends)->Stop();
  manager.StopAll();
  spdlog::info("serval stopped");
  spdlog::default_logger()->flush();
  return 0;
}

void AddLifecycleFlags(CLI::App* serve, ServeOptions* o) {
  serve
      ->add_option("--model-control-mode", o->control_mode,
                   "none: load every model at start-up, the load/unload API "
                   "is refused; poll: also follow repository changes; "
                   "explicit: load --load-model models, then only through "
                   "the API")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "poll", "explicit"}));
  serve
      ->add_option("--repository-poll-secs", o->repository_poll_secs,
                   "Poll mode: seconds between repository scans; a change "
                   "is loaded once two consecutive scans agree")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 86400.0));
  serve->add_option("--load-model", o->load_models,
                    "Explicit mode: a model to load at start-up (repeatable; "
                    "'*' loads all)");
  serve
      ->add_option("--exit-timeout-secs", o->exit_timeout_secs,
                   "On SIGTERM/SIGINT, how long in-flight requests may take "
                   "to finish before the server exits")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  serve
      ->add_option("--strict-readiness", o->strict_readiness,
                   "Ready only while every model loaded at start-up has a "
                   "ready version (default: ready once the start-up load "
                   "is over, failed models included)")
      ->capture_default_str();
  serve
      ->add_option("--max-upload-bytes", o->max_upload_bytes,
                   "Largest total size of model files uploaded with one "
                   "load request")
      ->capture_default_str();
  serve->add_option("--model-upload-directory", o->upload_directory,
                    "Where uploaded model files are written (default: a new "
                    "private directory under the system temp directory)");
}

}  // namespace

void AddServeCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = app->add_subcommand(
      "serve",
      "Serve the models of one or more model repositories over HTTP/REST and "
      "gRPC (KServe v2 protocol; Triton model repositories work unchanged)");
  serve
      ->add_option(
          "--model-repository", options->repositories,
          "Model repository (repeatable): a directory holding "
          "<model>/config.pbtxt and <model>/<version>/, or an S3 bucket: "
          "s3://bucket/prefix (AWS), s3://http[s]://host:port/bucket/prefix "
          "(an S3-compatible server); credentials from AWS_ACCESS_KEY_ID / "
          "AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or the profile "
          "(AWS_PROFILE) of ~/.aws/credentials and ~/.aws/config")
      ->required();
  serve->add_option(
      "--model-cache-directory", options->model_cache_directory,
      "Where models from S3 are kept (content-addressed: a file downloads "
      "once); default $XDG_CACHE_HOME/serval/models or "
      "~/.cache/serval/models");
  serve
      ->add_option("--s3-max-attempts", options->s3_max_attempts,
                   "Attempts per S3 request before giving up (connection "
                   "errors, timeouts, 5xx and throttling are retried with "
                   "exponential back-off)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  serve
      ->add_option("--s3-timeout-secs", options->s3_timeout_secs,
                   "Longest wait of an S3 request: for the connection, "
                   "the answer, or the next bytes of a download")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  serve
      ->add_option("--s3-download-threads", options->s3_download_threads,
                   "Parallel ranged downloads (8 MiB parts) per model load")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve->add_option("--backend-directory", options->backend_directory,
                    "Directory holding backend plugins "
                    "(<dir>/<name>/libserval_<name>.so); default: 'backends' "
                    "beside the serval binary");
  serve
      ->add_option("--log-level", options->log_level,
                   "trace, debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  serve->add_option("--log-format", options->log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  serve
      ->add_option("--model-load-threads", options->load_threads,
                   "Threads loading model versions in parallel at start-up")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve
      ->add_option("--allow-http", options->allow_http,
                   "Start the HTTP/REST frontend")
      ->capture_default_str();
  serve
      ->add_option("--metrics-port", options->metrics_port,
                   "Port of the Prometheus /metrics endpoint")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve
      ->add_option("--metrics-address", options->metrics_address,
                   "IPv4 address the /metrics endpoint listens on")
      ->capture_default_str();
  serve
      ->add_option("--allow-metrics", options->allow_metrics,
                   "Record Prometheus metrics and serve /metrics (false: "
                   "neither; the statistics extension keeps working)")
      ->capture_default_str();
  serve->add_option("--metrics-latency-buckets",
                    options->metrics_latency_buckets,
                    "Upper bounds in seconds of the latency histograms, "
                    "comma-separated and ascending (default: 0.0001,0.00025,"
                    "0.0005,...,5,10)");
  serve->add_flag("--log-access", options->log_access,
                  "Log one line per inference request: id, model, version, "
                  "status and latency (off by default)");
  serve
      ->add_option("--server-name", options->server_name,
                   "Name in the server metadata (GET /v2, gRPC "
                   "ServerMetadata); Triton's own client examples check for "
                   "'triton'")
      ->capture_default_str();
  serve->add_option(
      "--trace-config", options->trace_config,
      "Request tracing at start-up, Triton's trace extension (repeatable): "
      "level=OFF|TIMESTAMPS|TENSORS, rate=N (one request in N), count=N "
      "(-1: no limit), log_frequency=N (traces per numbered file; 0: one "
      "file), file=PATH; clients change all but the file at run time "
      "(/v2/trace/setting)");
  AddLifecycleFlags(serve, options.get());
  http::AddHttpFlags(serve, &options->http);
  AddGrpcFlags(serve, &options->grpc);
  serve->callback([options, exit_code] { *exit_code = Serve(*options); });
}

}  // namespace serval
