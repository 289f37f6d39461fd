#include "frontend/grpc/grpc_server.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/thread_name.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"

namespace serval {

GrpcServer::GrpcServer(GrpcOptions options, ServerApi* server,
                       Executor* blocking,
                       std::shared_ptr<const AccessPolicy> access)
    : options_(std::move(options)),
      server_(server),
      access_(std::move(access)),
      service_(server, blocking, access_.get()) {}

absl::Status GrpcServer::ReloadTls() {
  return tls_ != nullptr ? tls_->Reload() : absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    GrpcOptions options, ServerApi* server, Executor* blocking,
    std::shared_ptr<const AccessPolicy> access) {
  if (absl::Status flags = ValidateTlsFlags(options.tls, "--grpc");
      !flags.ok()) {
    return flags;
  }
  std::unique_ptr<GrpcServer> self(
      new GrpcServer(std::move(options), server, blocking, std::move(access)));
  const GrpcOptions& opts = self->options_;
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (opts.tls.enabled) {
    auto tls = GrpcTls::Create(opts.tls);
    if (!tls.ok()) return tls.status();
    self->tls_ = *std::move(tls);
    credentials = self->tls_->Credentials();
  }
  // Process-wide switch, read when a server is built.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  const std::string address = absl::StrCat(opts.address, ":", opts.port);
  builder.AddListeningPort(address, credentials, &self->port_);
  builder.RegisterService(&self->service_);
  // Without this gRPC sets SO_REUSEPORT, and a second server on a busy
  // port would start and silently share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(opts.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(opts.max_message_bytes));
  if (opts.threads > 0) {
    grpc::ResourceQuota quota("serval_grpc");
    quota.SetMaxThreads(opts.threads);
    builder.SetResourceQuota(quota);
  }
  self->grpc_server_ = builder.BuildAndStart();
  if (self->grpc_server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("gRPC frontend could not listen on ", address,
                     " (address in use or not available?)"));
  }
  // The default health service knows only ""; naming our service as well
  // lets probes ask for it. SetServingStatus(bool) later updates both.
  const bool ready = server->IsReady();
  grpc::HealthCheckServiceInterface* health =
      self->grpc_server_->GetHealthCheckService();
  health->SetServingStatus(inference::GRPCInferenceService::service_full_name(),
                           ready);
  health->SetServingStatus(ready);
  self->health_thread_ = std::thread([s = self.get(), ready] {
    SetCurrentThreadName("grpc-health");
    s->PollHealth(ready);
  });
  return self;
}

GrpcServer::~GrpcServer() { Stop(); }

void GrpcServer::PollHealth(bool serving) {
  absl::MutexLock lock(&mu_);
  while (
      !mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                            absl::FromChrono(options_.health_poll_interval))) {
    const bool ready = server_->IsReady();
    if (ready != serving) {
      serving = ready;
      grpc_server_->GetHealthCheckService()->SetServingStatus(ready);
    }
  }
}

void GrpcServer::Stop(std::chrono::milliseconds grace) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (health_thread_.joinable()) health_thread_.join();
  if (grpc_server_ != nullptr) {
    // Health turns NOT_SERVING at once; calls still running get `grace`.
    grpc_server_->Shutdown(std::chrono::system_clock::now() + grace);
    grpc_server_->Wait();
  }
}

}  // namespace serval
