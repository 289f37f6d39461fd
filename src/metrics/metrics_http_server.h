// MetricsHttpServer: the small HTTP/1.1 listener of the metrics port. One
// thread polling non-blocking sockets, one request per connection
// (Connection: close), connections served side by side with a deadline
// each, so a slow or idle client cannot delay a scrape: Prometheus scrapes
// every few seconds, and /metrics keeps answering whatever the REST
// frontend is doing.
// GET /metrics calls `render` for the page; anything else is 404/405.
// Owns its thread and socket; Stop() is idempotent and joins the thread.
#ifndef SERVAL_METRICS_METRICS_HTTP_SERVER_H_
#define SERVAL_METRICS_METRICS_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "security/access_policy.h"

namespace serval {

struct MetricsHttpOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8002;  // 0 picks a free port (see port())
  // Who may scrape (the `metrics` group of --http-restricted-api); null:
  // anyone.
  std::shared_ptr<const AccessPolicy> access;
};

class MetricsHttpServer {
 public:
  using RenderFn = std::function<std::string()>;

  // Binds and starts the thread. UNAVAILABLE when the port cannot be bound,
  // INVALID_ARGUMENT for an address that is not a numeric IPv4 address.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      MetricsHttpOptions options, RenderFn render);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  void Stop();
  uint16_t port() const { return port_; }

  // The whole response to one complete request header block; `access`
  // may be null (open).
  static std::string Answer(std::string_view request, const RenderFn& render,
                            const AccessPolicy* access = nullptr);

 private:
  MetricsHttpServer(int listen_fd, int wake_read, int wake_write, uint16_t port,
                    RenderFn render,
                    std::shared_ptr<const AccessPolicy> access);
  void Loop();

  int listen_fd_;
  int wake_read_;  // Stop() writes a byte to wake_write_ to end Loop()
  int wake_write_;
  const uint16_t port_;
  const RenderFn render_;
  const std::shared_ptr<const AccessPolicy> access_;
  std::thread thread_;
};

}  // namespace serval

#endif  // SERVAL_METRICS_METRICS_HTTP_SERVER_H_
