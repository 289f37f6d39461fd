#include "frontend/http/http_options.h"

#include "CLI/CLI.hpp"

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
                  "Seconds a connection may take to send one complete "
                  "request, idle time included")
      ->capture_default_str();
  app->add_option("--http-write-timeout-s", options->write_timeout_s,
                  "Seconds allowed to write one response")
      ->capture_default_str();
}

}  // namespace serval::http
