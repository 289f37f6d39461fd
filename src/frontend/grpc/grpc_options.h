// Options of the gRPC frontend and the `serval serve` flags that set them.
#ifndef SERVAL_FRONTEND_GRPC_GRPC_OPTIONS_H_
#define SERVAL_FRONTEND_GRPC_GRPC_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "security/tls_files.h"

namespace CLI {
class App;
}  // namespace CLI

namespace serval {

struct GrpcOptions {
  // False: `serval serve` does not start the gRPC frontend at all.
  bool enabled = true;
  std::string address = "0.0.0.0";
  // 0 lets the OS pick a port (GrpcServer::port() reports it).
  int port = 8001;
  // Upper bound on the threads gRPC may create (its resource quota);
  // 0 leaves gRPC's own default.
  int threads = 0;
  // Largest request or response message, in bytes. Larger requests fail
  // with RESOURCE_EXHAUSTED before they reach the server.
  int64_t max_message_bytes = int64_t{64} << 20;
  // How often the grpc.health.v1 status is refreshed from ServerApi.
  std::chrono::milliseconds health_poll_interval{100};
  // TLS (Triton's --grpc-use-ssl flags); reloaded by GrpcServer::ReloadTls.
  TlsFiles tls;
  // --grpc-restricted-protocol rules as given (AccessPolicy::Parse).
  std::vector<std::string> restricted_protocol;
};

// Registers --allow-grpc, --grpc-address, --grpc-port, --grpc-threads,
// --grpc-max-message-bytes, the TLS flags and --grpc-restricted-protocol,
// writing into `options` (which must outlive
// app->parse()). The defaults shown are those already in `options`.
void AddGrpcFlags(CLI::App* app, GrpcOptions* options);

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_GRPC_OPTIONS_H_
