#include "server/frontends.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "metrics/metrics_exporter.h"
#include "spdlog/spdlog.h"

namespace serval {
namespace {

// The /metrics listener. Scrapes read the live model versions from the
// manager and the process-wide in-flight count from the server.
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetrics(
    const FrontendOptions& o, ModelManager* manager, Server* server,
    const http::HttpServer* http_server, const GrpcServer* grpc_server,
    std::shared_ptr<const AccessPolicy> access) {
  std::vector<ListenerPort> listeners;
  if (http_server) listeners.push_back({"http", http_server->port()});
  if (grpc_server) {
    listeners.push_back({"grpc", static_cast<uint16_t>(grpc_server->port())});
  }
  auto exporter = std::make_shared<MetricsExporter>(std::move(listeners),
                                                    GpuMonitor::Load());
  return MetricsHttpServer::Start(
      {o.metrics_address, static_cast<uint16_t>(o.metrics_port),
       std::move(access)},
      [exporter, manager, server] {
        std::vector<ModelHandle> handles = manager->AllReady();
        std::vector<ModelMetricsSource> models;
        models.reserve(handles.size());
        for (const auto& h : handles) {
          const Scheduler::State state = h->scheduler().CurrentState();
          models.push_back({h->name(), h->version_string(), h->metrics(),
                            state.queued, h->scheduler().InFlight(),
                            state.batch_limit, state.budget_ns,
                            state.predicted_wait_ns});
        }
        return exporter->Render(models, server->InFlight());
      });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Frontends>> Frontends::Start(
    const FrontendOptions& options, Server* server, ModelManager* manager) {
  // The HTTP rules cover the metrics port too (its `metrics` group).
  ASSIGN_OR_RETURN(
      AccessPolicy http_access,
      AccessPolicy::Parse(options.http.restricted_api, AccessProtocol::kHttp,
                          "--http-restricted-api"));
  ASSIGN_OR_RETURN(
      AccessPolicy grpc_access,
      AccessPolicy::Parse(options.grpc.restricted_protocol,
                          AccessProtocol::kGrpc, "--grpc-restricted-protocol"));
  auto http_policy =
      std::make_shared<const AccessPolicy>(std::move(http_access));
  auto grpc_policy =
      std::make_shared<const AccessPolicy>(std::move(grpc_access));
  std::unique_ptr<Frontends> f(new Frontends(options.repository_threads));
  if (options.allow_http) {
    ASSIGN_OR_RETURN(f->http_,
                     http::HttpServer::Start(options.http, server,
                                             &f->blocking_, http_policy),
                     Annotate(_, "HTTP frontend"));
    spdlog::info("HTTP restricted API groups: {}", http_policy->Describe());
  }
  if (options.grpc.enabled) {
    ASSIGN_OR_RETURN(
        f->grpc_,
        GrpcServer::Start(options.grpc, server, &f->blocking_, grpc_policy),
        Annotate(_, "gRPC frontend"));
    spdlog::info("gRPC restricted API groups: {}", grpc_policy->Describe());
  }
  if (options.allow_metrics) {
    ASSIGN_OR_RETURN(f->metrics_,
                     StartMetrics(options, manager, server, f->http_.get(),
                                  f->grpc_.get(), http_policy),
                     Annotate(_, "metrics endpoint"));
    spdlog::info("metrics endpoint listening on {}:{}/metrics",
                 options.metrics_address, f->metrics_->port());
  }
  return f;
}

absl::Status Frontends::ReloadTls() {
  std::vector<std::string> failed;
  if (http_) {
    if (absl::Status s = http_->ReloadTls(); !s.ok()) {
      failed.push_back(absl::StrCat(
          "HTTPS certificates not reloaded, the current ones stay: ",
          s.message()));
    }
  }
  if (grpc_) {
    if (absl::Status s = grpc_->ReloadTls(); !s.ok()) {
      failed.push_back(absl::StrCat(
          "gRPC certificates not reloaded, the current ones stay: ",
          s.message()));
    }
  }
  if (failed.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(failed, "; "));
}

void Frontends::Stop(std::chrono::milliseconds grace) {
  if (grpc_) grpc_->Stop(grace);
  if (http_) http_->Stop();
  blocking_.Shutdown();
  if (metrics_) metrics_->Stop();
}

}  // namespace serval
