// The gRPC frontend: inference.GRPCInferenceService plus grpc.health.v1
// (gRPC's default health service, whose status follows
// ServerApi::IsReady()). Owns the gRPC server and a thread that refreshes
// the health status; repository load/unload run on an executor it is given.
// Start/Stop are not meant to be called concurrently; everything else is
// gRPC's.
#ifndef SERVAL_FRONTEND_GRPC_GRPC_SERVER_H_
#define SERVAL_FRONTEND_GRPC_GRPC_SERVER_H_

#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/executor.h"
#include "frontend/grpc/grpc_options.h"
#include "frontend/grpc/grpc_tls.h"
#include "frontend/grpc/inference_service.h"
#include "grpcpp/grpcpp.h"
#include "server/server_api.h"

namespace serval {

class GrpcServer {
 public:
  // Listens on options.address:options.port. `server` and `blocking` are
  // not owned and must stay alive and running until Stop() returns: Stop()
  // waits for in-flight calls, which complete through them.
  // With options.tls enabled it serves TLS only, and fails with
  // INVALID_ARGUMENT when the certificate files do not load. `access`
  // (null: every method open) is shared with the caller.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      GrpcOptions options, ServerApi* server, Executor* blocking,
      std::shared_ptr<const AccessPolicy> access = nullptr);

  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // The port actually bound (differs from the option when it was 0).
  int port() const { return port_; }

  // TLS: reads the certificate files again (GrpcTls); a set that does not
  // load is refused and the current one stays. A no-op without TLS.
  absl::Status ReloadTls();

  // Stops accepting calls, gives in-flight calls `grace` to finish, then
  // cancels the rest and joins every thread. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  GrpcServer(GrpcOptions options, ServerApi* server, Executor* blocking,
             std::shared_ptr<const AccessPolicy> access);
  // Keeps the health status equal to server_->IsReady() until Stop();
  // `serving` is the status last set.
  void PollHealth(bool serving);

  const GrpcOptions options_;
  ServerApi* const server_;
  const std::shared_ptr<const AccessPolicy> access_;
  InferenceService service_;
  std::unique_ptr<GrpcTls> tls_;  // null without TLS
  std::unique_ptr<grpc::Server> grpc_server_;
  int port_ = 0;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread health_thread_;
};

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_GRPC_SERVER_H_
