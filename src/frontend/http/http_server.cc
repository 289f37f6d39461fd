#include "frontend/http/http_server.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "frontend/http/http_session.h"
#include "frontend/http/tls_context.h"
#include "serval/backend_util.h"
#include "spdlog/spdlog.h"

namespace serval::http {

HttpServer::HttpServer(HttpOptions options, ServerApi* api, Executor* blocking,
                       std::shared_ptr<const AccessPolicy> access)
    : options_(std::move(options)),
      io_(std::make_shared<asio::io_context>()),
      stopped_(std::make_shared<std::atomic<bool>>(false)),
      registry_(std::make_shared<SessionRegistry>(
          options_.max_connections, options_.max_pending_body_bytes)),
      acceptor_(*io_),
      accept_retry_(*io_),
      access_(std::move(access)),
      handler_(api, blocking, access_.get()) {}

absl::Status HttpServer::ReloadTls() {
  if (!options_.tls.enabled) return absl::OkStatus();
  auto material = LoadTlsMaterial(options_.tls);
  if (!material.ok()) return material.status();
  auto context = MakeServerTlsContext(*material);
  if (!context.ok()) return context.status();
  {
    absl::MutexLock lock(&tls_mu_);
    tls_ = *std::move(context);
  }
  spdlog::info(
      "HTTPS certificate loaded: {}{}", material->summary,
      material->verify_client ? " (client certificates required)" : "");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    HttpOptions options, ServerApi* api, Executor* blocking,
    std::shared_ptr<const AccessPolicy> access) {
  if (absl::Status flags = ValidateTlsFlags(options.tls, "--http");
      !flags.ok()) {
    return flags;
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --http-address '", options.address, "': ", ec.message()));
  }
  std::unique_ptr<HttpServer> server(
      new HttpServer(options, api, blocking, std::move(access)));
  if (absl::Status tls = server->ReloadTls(); !tls.ok()) return tls;
  const asio::ip::tcp::endpoint endpoint(address, options.port);
  auto& acceptor = server->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("HTTP frontend cannot listen on ", options.address, ":",
                     options.port, ": ", ec.message()));
  }
  server->port_ = acceptor.local_endpoint().port();
  server->Accept();
  // One per CPU this process may use: an I/O thread costs nothing while it
  // has no I/O to do. (On 2 cores shared with the load generator, one
  // thread was faster against a one-thread client and slower against a
  // two-thread one: the split of the cores between client and server
  // decided, not the server. docs/http.md.)
  int threads = options.io_threads > 0
                    ? options.io_threads
                    : static_cast<int>(backend_util::AvailableCpus());
  threads = std::max(threads, 1);
  {
    absl::MutexLock lock(&server->running_mu_);
    server->running_ = threads;
  }
  for (int i = 0; i < threads; ++i) {
    server->threads_.emplace_back([s = server.get()] {
      SetCurrentThreadName("http-io");
      s->io_->run();
      absl::MutexLock lock(&s->running_mu_);
      --s->running_;
    });
  }
  spdlog::info("HTTP frontend listening on {}:{} ({}, {} I/O threads)",
               options.address, server->port_,
               options.tls.enabled ? "HTTPS" : "plain HTTP", threads);
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Accept() {
  // Each connection gets its own strand, so its handlers never run
  // concurrently while connections spread over all I/O threads.
  acceptor_.async_accept(asio::make_strand(*io_), [this](beast::error_code ec,
                                                         SessionSocket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    if (ec) {
      AcceptFailed(ec);
      return;
    }
    beast::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    SessionLimits limits;
    limits.max_body_bytes = options_.max_body_bytes;
    limits.max_header_bytes = options_.max_header_bytes;
    limits.max_body_chunks = options_.max_body_chunks;
    limits.read_timeout = std::chrono::seconds(options_.read_timeout_s);
    limits.header_timeout = std::chrono::seconds(options_.header_timeout_s);
    limits.write_timeout = std::chrono::seconds(options_.write_timeout_s);
    std::shared_ptr<asio::ssl::context> tls;
    {
      absl::MutexLock lock(&tls_mu_);
      tls = tls_;
    }
    if (tls != nullptr) {
      std::make_shared<BasicHttpSession<TlsStream>>(io_, stopped_, registry_,
                                                    std::move(socket), limits,
                                                    &handler_, std::move(tls))
          ->Start();
    } else {
      std::make_shared<BasicHttpSession<PlainStream>>(
          io_, stopped_, registry_, std::move(socket), limits, &handler_)
          ->Start();
    }
    Accept();
  });
}

void HttpServer::AcceptFailed(const beast::error_code& ec) {
  constexpr auto kReportEvery = std::chrono::seconds(10);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_report_ >= kReportEvery) {
    spdlog::warn(
        "http: accept failed: {}{}; new connections wait in the listen queue"
        "{}",
        ec.message(),
        unreported_accept_failures_ == 0
            ? std::string()
            : absl::StrCat(" (", unreported_accept_failures_,
                           " more failures since the last report)"),
        ec == asio::error::no_descriptors
            ? "; raise the open file limit (ulimit -n) or lower the load"
            : "");
    last_accept_report_ = now;
    unreported_accept_failures_ = 0;
  } else {
    ++unreported_accept_failures_;
  }
  // Out of descriptors or memory: accepting again at once fails again at
  // once. Open connections keep being served while the chain waits.
  const bool exhausted =
      ec == asio::error::no_descriptors || ec.value() == ENFILE ||
      ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
  if (!exhausted) {
    Accept();
    return;
  }
  accept_retry_.expires_after(std::chrono::milliseconds(50));
  accept_retry_.async_wait([this](beast::error_code wait_ec) {
    if (wait_ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    Accept();
  });
}

void HttpServer::Stop() {
  std::call_once(stop_once_, [this] {
    stopped_->store(true);
    asio::post(*io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      accept_retry_.cancel();
    });
    registry_->CloseAll([](HttpSession& s) { s.CloseSoon(); });
    {
      // With the acceptor and every connection closed the I/O threads run
      // out of work and return; a handler stuck elsewhere is cut short.
      absl::MutexLock lock(&running_mu_);
      if (!running_mu_.AwaitWithTimeout(
              absl::Condition(
                  +[](HttpServer* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                       s->running_mu_) { return s->running_ == 0; },
                  this),
              absl::Seconds(5))) {
        spdlog::warn("http: I/O threads still busy after 5 s; stopping them");
        io_->stop();
      }
    }
    const bool started = !threads_.empty();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    beast::error_code ignored;
    acceptor_.close(ignored);
    if (started) spdlog::info("HTTP frontend stopped");
  });
}

}  // namespace serval::http
