// The HTTP/REST frontend: a Boost.Beast HTTP/1.1 server speaking the
// KServe v2 protocol (see docs/http.md). Owns its I/O threads and its
// listening socket. Does not own the ServerApi or the executor it runs
// blocking repository calls on, which must outlive Stop(). Stop() is
// thread-safe and idempotent.
#ifndef SERVAL_FRONTEND_HTTP_HTTP_SERVER_H_
#define SERVAL_FRONTEND_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/executor.h"
#include "frontend/http/asio.h"
#include "frontend/http/http_options.h"
#include "frontend/http/rest_handler.h"
#include "frontend/http/session_registry.h"
#include "server/server_api.h"

namespace serval::http {

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. UNAVAILABLE when the port
  // cannot be bound, INVALID_ARGUMENT for a bad address.
  // With options.tls enabled it serves HTTPS, and fails with
  // INVALID_ARGUMENT when the certificate files do not load. `access`
  // (null: every endpoint open) is shared with the caller.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      HttpOptions options, ServerApi* api, Executor* blocking,
      std::shared_ptr<const AccessPolicy> access = nullptr);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting, closes every connection, lets the I/O threads finish
  // (forcing them after a few seconds) and joins them. Requests still with
  // the server complete there and their replies are dropped.
  void Stop();

  // The bound port (useful when options.port was 0).
  uint16_t port() const { return port_; }

  // HTTPS: reads the certificate files again; new connections use them,
  // open ones keep theirs. A set that does not load is refused and the
  // current one stays. A no-op without TLS. Thread-safe.
  absl::Status ReloadTls();

 private:
  HttpServer(HttpOptions options, ServerApi* api, Executor* blocking,
             std::shared_ptr<const AccessPolicy> access);
  void Accept();
  // After a failed accept: logs (at most once per interval, with how many
  // failed since) and, when the process is out of descriptors or memory,
  // waits before accepting again instead of spinning on the error.
  void AcceptFailed(const beast::error_code& ec);

  const HttpOptions options_;
  std::shared_ptr<asio::io_context> io_;
  std::shared_ptr<std::atomic<bool>> stopped_;
  std::shared_ptr<SessionRegistry> registry_;
  asio::ip::tcp::acceptor acceptor_;
  // Used by the accept chain only (one accept or one retry outstanding at
  // a time, so its handlers never run concurrently).
  asio::steady_timer accept_retry_;
  std::chrono::steady_clock::time_point last_accept_report_{};
  uint64_t unreported_accept_failures_ = 0;
  const std::shared_ptr<const AccessPolicy> access_;
  RestHandler handler_;
  // The context new TLS connections get; null for plain HTTP.
  absl::Mutex tls_mu_;
  std::shared_ptr<asio::ssl::context> tls_ ABSL_GUARDED_BY(tls_mu_);
  std::vector<std::thread> threads_;
  // I/O threads still running; Stop() waits on it with a deadline.
  absl::Mutex running_mu_;
  int running_ ABSL_GUARDED_BY(running_mu_) = 0;
  uint16_t port_ = 0;
  std::once_flag stop_once_;
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_HTTP_SERVER_H_
