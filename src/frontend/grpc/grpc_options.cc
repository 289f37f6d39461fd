#include "frontend/grpc/grpc_options.h"

#include "CLI/CLI.hpp"

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
  app->add_option("--grpc-use-ssl", options->tls.enabled,
                  "Serve gRPC over TLS (1.2 or later); needs "
                  "--grpc-server-cert and --grpc-server-key. SIGHUP reloads "
                  "the files")
      ->capture_default_str();
  app->add_option("--grpc-server-cert", options->tls.cert_file,
                  "PEM certificate chain of the gRPC listener (leaf first)");
  app->add_option("--grpc-server-key", options->tls.key_file,
                  "PEM private key of --grpc-server-cert (unencrypted)");
  app->add_option("--grpc-root-cert", options->tls.ca_file,
                  "PEM CA bundle that client certificates must chain to "
                  "(with --grpc-use-ssl-mutual)");
  app->add_option("--grpc-use-ssl-mutual", options->tls.verify_client,
                  "Mutual TLS: refuse gRPC clients without a certificate "
                  "signed by --grpc-root-cert")
      ->capture_default_str();
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
