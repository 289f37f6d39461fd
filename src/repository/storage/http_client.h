// One HTTP/1.1 client connection (plain or TLS with certificate and host
// name verification), kept alive between requests and reopened when the
// server closed it. Every operation has a deadline. Used by one thread at a
// time; a downloader gives each of its threads its own.
#ifndef SERVAL_REPOSITORY_STORAGE_HTTP_CLIENT_H_
#define SERVAL_REPOSITORY_STORAGE_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace serval {

struct HttpEndpoint {
  bool tls = false;
  std::string host;
  std::string port;
  // TLS: a CA bundle to trust instead of the system's; empty: the system's.
  std::string ca_file;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // encoded path and query
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  // The body, unless a sink took it.
  std::string body;
  // Body bytes received (into `body` or a sink).
  uint64_t body_bytes = 0;
};

// Takes a successful (2xx) response's body in order, a chunk at a time, as
// it arrives (no copy of the whole body is kept); an error ends the
// exchange with that error.
using BodySink = std::function<absl::Status(std::string_view chunk)>;

class HttpClientConnection {
 public:
  HttpClientConnection(HttpEndpoint endpoint,
                       std::chrono::milliseconds timeout);
  ~HttpClientConnection();
  HttpClientConnection(const HttpClientConnection&) = delete;
  HttpClientConnection& operator=(const HttpClientConnection&) = delete;

  // UNAVAILABLE for a connection failure or a reset, DEADLINE_EXCEEDED when
  // the timeout passes, RESOURCE_EXHAUSTED for a body over `body_limit`;
  // an HTTP error status is a response, not an error (its body is read
  // into the response, not the sink).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                    size_t body_limit,
                                    const BodySink* sink = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_HTTP_CLIENT_H_
