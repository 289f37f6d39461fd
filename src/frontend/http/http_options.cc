#include "frontend/http/http_options.h"

#include "CLI/CLI.hpp"
#include "security/tls_flags.h"

namespace serval::http {

void AddHttpFlags(CLI::App* app, HttpOptions* options) {
  app->add_option("--http-address", options->address,
                  "Address the HTTP/REST frontend binds")
      ->capture_default_str();
  app->add_option("--http-port", options->port, "HTTP/REST port")
      ->capture_default_str();
  app->add_option("--http-threads", options->io_threads,
                  "HTTP I/O threads (0 = one per CPU this process may use)")
      ->capture_default_str();
  app->add_option("--http-max-body-bytes", options->max_body_bytes,
                  "Largest HTTP request body accepted (413 beyond)")
      ->capture_default_str();
  app->add_option("--http-max-body-chunks", options->max_body_chunks,
                  "Most chunks a chunked request body may have; more get a "
                  "400")
      ->capture_default_str();
  app->add_option("--http-max-header-bytes", options->max_header_bytes,
                  "Largest HTTP request header block accepted (431 beyond)")
      ->capture_default_str();
  app->add_option("--http-read-timeout-s", options->read_timeout_s,
                  "Seconds an idle connection may wait for its next request, "
                  "and a request's body may take after its header")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--http-header-timeout-s", options->header_timeout_s,
                  "Seconds from a request's first byte to the end of its "
                  "header (slow senders are closed after it)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--http-max-connections", options->max_connections,
                  "Connections served at once; more get a 503 and are "
                  "closed (0: no limit)")
      ->capture_default_str();
  app->add_option("--http-max-pending-body-bytes",
                  options->max_pending_body_bytes,
                  "Request bodies being received or served at once, over "
                  "all connections; a request beyond gets a 503 (0: no "
                  "limit)")
      ->capture_default_str();
  app->add_option("--http-write-timeout-s", options->write_timeout_s,
                  "Seconds allowed to write one response")
      ->capture_default_str();
  AddTlsFlags(app, "--http", "HTTPS instead of plain HTTP on --http-port",
              &options->tls);
  app->add_option(
      "--http-restricted-api", options->restricted_api,
      "Restrict API groups to requests carrying a credential "
      "(repeatable): GROUP[,GROUP...]:KEY=VALUE requires header KEY with "
      "VALUE; GROUP[,GROUP...]:bearer=TOKEN requires 'Authorization: "
      "Bearer TOKEN'; VALUE/TOKEN may be @FILE. Groups: health, metadata, "
      "inference, shared-memory, model-config, model-repository, "
      "statistics, trace, logging, metrics (the metrics port). Missing "
      "credentials get 401, wrong ones 403");
}

}  // namespace serval::http
