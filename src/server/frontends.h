// The listeners of `serval serve` as one RAII object: the HTTP and gRPC
// frontends, the /metrics endpoint, and the executor their repository calls
// run on. Stop (and the destructor) stop them in the order that keeps every
// in-flight call's dependencies alive: gRPC and HTTP first (they wait for
// their calls, whose repository work runs on the executor), then the
// executor, then /metrics.
#ifndef SERVAL_SERVER_FRONTENDS_H_
#define SERVAL_SERVER_FRONTENDS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/executor.h"
#include "frontend/grpc/grpc_options.h"
#include "frontend/grpc/grpc_server.h"
#include "frontend/http/http_options.h"
#include "frontend/http/http_server.h"
#include "lifecycle/model_manager.h"
#include "metrics/metrics_http_server.h"
#include "server/server.h"

namespace serval {

struct FrontendOptions {
  bool allow_http = true;
  http::HttpOptions http;
  GrpcOptions grpc;
  bool allow_metrics = true;
  std::string metrics_address = "0.0.0.0";
  int metrics_port = 8002;
  // Threads for repository load/unload calls of both frontends.
  int repository_threads = 2;
};

class Frontends {
 public:
  // Starts what the options enable; on failure stops what it started.
  // `server` and `manager` must outlive the Frontends.
  static absl::StatusOr<std::unique_ptr<Frontends>> Start(
      const FrontendOptions& options, Server* server, ModelManager* manager);
  ~Frontends() { Stop(); }
  Frontends(const Frontends&) = delete;
  Frontends& operator=(const Frontends&) = delete;

  // Reloads the TLS certificates of the HTTP and gRPC listeners (SIGHUP).
  // Each keeps its current certificates when its files do not load; the
  // status names what failed.
  absl::Status ReloadTls();

  // Idempotent. In-flight gRPC calls get `grace` to finish.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(1));

 private:
  explicit Frontends(int repository_threads)
      : blocking_(repository_threads, "repository") {}

  // Declared first: destroyed last, after the frontends that post to it.
  ThreadPool blocking_;
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<MetricsHttpServer> metrics_;
};

}  // namespace serval

#endif  // SERVAL_SERVER_FRONTENDS_H_
