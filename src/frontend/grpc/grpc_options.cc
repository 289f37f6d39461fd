#include "frontend/grpc/grpc_options.h"

#include "CLI/CLI.hpp"
#include "security/tls_flags.h"

namespace serval {

void AddGrpcFlags(CLI::App* app, GrpcOptions* options) {
  app->add_option("--allow-grpc", options->enabled,
                  "Serve the KServe v2 gRPC protocol (true|false)")
      ->capture_default_str();
  app->add_option("--grpc-address", options->address,
                  "Address the gRPC frontend listens on")
      ->capture_default_str();
  app->add_option("--grpc-port", options->port, "gRPC port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app->add_option("--grpc-threads", options->threads,
                  "Most threads gRPC may create; 0 = gRPC's default")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--grpc-max-message-bytes", options->max_message_bytes,
                  "Largest gRPC request or response message in bytes")
      ->check(CLI::Range(int64_t{1024}, int64_t{2147483647}))
      ->capture_default_str();
  // Triton's names, so a Triton command line works unchanged.
  AddTlsFlags(app, "--grpc", "gRPC over TLS", &options->tls);
  app->add_option(
      "--grpc-restricted-protocol", options->restricted_protocol,
      "Restrict API groups to calls carrying a credential (repeatable): "
      "GROUP[,GROUP...]:KEY=VALUE requires metadata KEY (or Triton's "
      "triton-grpc-protocol-KEY) with VALUE; GROUP[,GROUP...]:bearer=TOKEN "
      "requires 'authorization: Bearer TOKEN'; VALUE/TOKEN may be @FILE. "
      "Groups: health, metadata, inference, shared-memory, model-config, "
      "model-repository, statistics, trace, logging. Missing credentials "
      "get UNAUTHENTICATED, wrong ones PERMISSION_DENIED");
}

}  // namespace serval
