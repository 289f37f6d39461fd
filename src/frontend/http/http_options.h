// Options of the HTTP/REST frontend and the CLI flags that set them.
#ifndef SERVAL_FRONTEND_HTTP_HTTP_OPTIONS_H_
#define SERVAL_FRONTEND_HTTP_HTTP_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "security/tls_files.h"

namespace CLI {
class App;
}

namespace serval::http {

struct HttpOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8000;
  // I/O threads; 0 means one per hardware thread.
  int io_threads = 0;
  // Largest request body accepted; larger bodies get 413.
  size_t max_body_bytes = 64u << 20;
  // Largest request header block accepted; larger headers get 431.
  size_t max_header_bytes = 16u << 10;
  // Chunks one chunked body may have: bounds the parsing work a client can
  // cause with tiny chunks (the body size is bounded separately).
  size_t max_body_chunks = 1u << 16;
  // Time an idle connection may wait for its next request, and a request's
  // body may take once its header is in.
  int read_timeout_s = 60;
  // Time allowed to write one response to a slow reader.
  int write_timeout_s = 60;
  // Time from a request's first byte to the end of its header.
  int header_timeout_s = 10;
  // Connections served at once; more are answered 503 and closed.
  size_t max_connections = 4096;
  // Request bodies being received or served at once, over all
  // connections; a request beyond is answered 503.
  size_t max_pending_body_bytes = 1u << 30;
  // HTTPS: certificate, key and optional client CA; reloaded by
  // HttpServer::ReloadTls (SIGHUP).
  TlsFiles tls;
  // --http-restricted-api rules as given (AccessPolicy::Parse reads them).
  std::vector<std::string> restricted_api;
};

// Registers --http-* flags writing into `options`, which must outlive
// the parse.
void AddHttpFlags(CLI::App* app, HttpOptions* options);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_HTTP_OPTIONS_H_
