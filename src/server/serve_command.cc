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
#include "common/logging.h"
#include "frontend/grpc/grpc_options.h"
#include "frontend/grpc/grpc_server.h"
#include "frontend/http/http_options.h"
#include "frontend/http/http_server.h"
#include "lifecycle/model_manager.h"
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
  http::HttpOptions http;
  GrpcOptions grpc;
};

// Where the plugins are when the user does not say: beside the binary, as
// scripts/build.sh lays them out (build/serval, build/backends/...).
std::string DefaultBackendDirectory() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "backends";
  return (exe.parent_path() / "backends").string();
}

int Serve(ServeOptions& o) {
  absl::Status logging = InitLogging(
      o.log_level, o.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  if (!logging.ok()) {
    std::fprintf(stderr, "serval: %s\n", std::string(logging.message()).c_str());
    return 2;
  }
  if (o.backend_directory.empty()) o.backend_directory = DefaultBackendDirectory();

  // Signals are taken synchronously by this thread; every thread started
  // after this point inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ManagerOptions mo;
  mo.repositories = o.repositories;
  mo.backend_directory = o.backend_directory;
  mo.load_threads = o.load_threads;
  ModelManager manager(mo);
  Server server(&manager);

  spdlog::info("serval {} starting: repositories [{}], backends in {}",
               kServerVersion, fmt::join(o.repositories, ", "),
               o.backend_directory);
  absl::Status loaded = manager.LoadAll();
  if (!loaded.ok()) {
    spdlog::critical("cannot read the model repository: {}",
                     ToStd(loaded.message()));
    return 1;
  }

  std::unique_ptr<http::HttpServer> http_server;
  if (o.allow_http) {
    auto started = http::HttpServer::Start(o.http, &server);
    if (!started.ok()) {
      spdlog::critical("HTTP frontend: {}", ToStd(started.status().message()));
      return 1;
    }
    http_server = std::move(*started);
  }
  std::unique_ptr<GrpcServer> grpc_server;
  if (o.grpc.enabled) {
    auto started = GrpcServer::Start(o.grpc, &server);
    if (!started.ok()) {
      spdlog::critical("gRPC frontend: {}", ToStd(started.status().message()));
      if (http_server) http_server->Stop();
      return 1;
    }
    grpc_server = std::move(*started);
  }

  size_t ready = 0, failed = 0;
  for (const auto& s : manager.Index()) {
    (s.state == VersionState::kReady ? ready : failed)++;
  }
  server.SetReady(true);
  spdlog::info("serval ready: {} model version(s) ready, {} failed", ready,
               failed);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}, shutting down", strsignal(signal_number));
  server.SetReady(false);
  if (grpc_server) grpc_server->Stop();
  if (http_server) http_server->Stop();
  manager.StopAll();
  spdlog::info("serval stopped");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = app->add_subcommand(
      "serve",
      "Serve the models of one or more model repositories over HTTP/REST and "
      "gRPC (KServe v2 protocol; Triton model repositories work unchanged)");
  serve->add_option("--model-repository", options->repositories,
                    "Model repository directory (repeatable): "
                    "<repo>/<model>/config.pbtxt and <repo>/<model>/<version>/")
      ->required();
  serve->add_option("--backend-directory", options->backend_directory,
                    "Directory holding backend plugins "
                    "(<dir>/<name>/libserval_<name>.so); default: 'backends' "
                    "beside the serval binary");
  serve->add_option("--log-level", options->log_level,
                    "trace, debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  serve->add_option("--log-format", options->log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  serve->add_option("--model-load-threads", options->load_threads,
                    "Threads loading model versions in parallel at start-up")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve->add_option("--allow-http", options->allow_http,
                    "Start the HTTP/REST frontend")
      ->capture_default_str();
  serve->add_option("--metrics-port", options->metrics_port,
                    "Port of the Prometheus /metrics endpoint")
      ->capture_default_str();
  http::AddHttpFlags(serve, &options->http);
  AddGrpcFlags(serve, &options->grpc);
  serve->callback([options, exit_code] { *exit_code = Serve(*options); });
}

}  // namespace serval
