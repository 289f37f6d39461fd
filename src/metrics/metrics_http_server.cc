#include "metrics/metrics_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "metrics/text_exposition.h"
#include "spdlog/spdlog.h"

namespace serval {
namespace {

constexpr size_t kMaxRequestBytes = 16 * 1024;
// A scrape (request and answer) must be over within this; Prometheus's
// own scrape timeout is 10 s by default.
constexpr int64_t kConnectionTimeoutMs = 10000;
// Connections served at once; more wait in the listen backlog.
constexpr int kMaxConnections = 64;
constexpr int64_t kAcceptRetryMs = 50;

std::string Response(int code, std::string_view reason,
                     std::string_view content_type, std::string_view body) {
  return absl::StrCat(
      "HTTP/1.1 ", code, " ", absl::string_view(reason.data(), reason.size()),
      "\r\nContent-Type: ",
      absl::string_view(content_type.data(), content_type.size()),
      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
      absl::string_view(body.data(), body.size()));
}

// The value of header `name` (case-insensitive) in a request header block,
// surrounding spaces removed.
std::optional<std::string_view> FindHeader(std::string_view request,
                                           std::string_view name) {
  size_t line_start = request.find("\r\n");
  while (line_start != std::string_view::npos) {
    line_start += 2;
    const size_t line_end = request.find("\r\n", line_start);
    const std::string_view line = request.substr(
        line_start, line_end == std::string_view::npos ? std::string_view::npos
                                                       : line_end - line_start);
    if (line.empty()) break;  // end of the header block
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        absl::EqualsIgnoreCase(absl::string_view(line.data(), colon),
                               absl::string_view(name.data(), name.size()))) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      return value;
    }
    line_start = line_end;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    MetricsHttpOptions options, RenderFn render) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.address.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address '", options.address, "' is not an IPv4 address"));
  }
  // Non-blocking: the loop accepts until EAGAIN.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError("cannot create the metrics socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 128) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address, ":", options.port,
                     " for /metrics: ", std::strerror(err)));
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    close(fd);
    return absl::InternalError("cannot create the metrics wake-up pipe");
  }
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServer(fd, wake[0], wake[1], ntohs(addr.sin_port),
                            std::move(render), std::move(options.access)));
}

MetricsHttpServer::MetricsHttpServer(int listen_fd, int wake_read,
                                     int wake_write, uint16_t port,
                                     RenderFn render,
                                     std::shared_ptr<const AccessPolicy> access)
    : listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      port_(port),
      render_(std::move(render)),
      access_(std::move(access)),
      thread_([this] {
        SetCurrentThreadName("metrics");
        Loop();
      }) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

void MetricsHttpServer::Stop() {
  if (!thread_.joinable()) return;
  const char byte = 0;
  (void)!write(wake_write_, &byte, 1);
  thread_.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string MetricsHttpServer::Answer(std::string_view request,
                                      const RenderFn& render,
                                      const AccessPolicy* access) {
  // Request line: METHOD SP TARGET SP VERSION.
  const std::string_view line = request.substr(0, request.find("\r\n"));
  const size_t sp1 = line.find(' ');
  const size_t sp2 =
      sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
    return Response(400, "Bad Request", "text/plain", "bad request\n");
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (target != "/metrics") {
    return Response(404, "Not Found", "text/plain",
                    "only /metrics is served on this port\n");
  }
  if (access != nullptr && access->restricts(ApiGroup::kMetrics)) {
    const AccessDecision decision = access->Check(
        ApiGroup::kMetrics,
        [request](std::string_view name) { return FindHeader(request, name); });
    if (decision == AccessDecision::kUnauthenticated) {
      std::string response =
          Response(401, "Unauthorized", "text/plain",
                   absl::StrCat(kUnauthenticatedMessage, "\n"));
      if (access->wants_bearer(ApiGroup::kMetrics)) {
        response.insert(response.find("\r\n") + 2,
                        "WWW-Authenticate: Bearer realm=\"serval\"\r\n");
      }
      return response;
    }
    if (decision == AccessDecision::kDenied) {
      return Response(403, "Forbidden", "text/plain",
                      absl::StrCat(kDeniedMessage, "\n"));
    }
  }
  if (method != "GET" && method != "HEAD") {
    return Response(405, "Method Not Allowed", "text/plain", "use GET\n");
  }
  std::string response = Response(200, "OK", kExpositionContentType, render());
  if (method == "HEAD") response.resize(response.find("\r\n\r\n") + 4);
  return response;
}

void MetricsHttpServer::Loop() {
  // Every connection is served side by side from this one thread, with
  // non-blocking sockets and a deadline each: a client trickling its
  // request or not reading its answer holds its own connection only, and
  // not past kConnectionTimeoutMs.
  struct Connection {
    int fd;
    int64_t deadline_ms;
    std::string in, out;
    size_t sent = 0;
    bool answered = false;
  };
  std::vector<Connection> conns;
  int64_t accept_paused_until_ms = 0;
  std::vector<pollfd> fds;
  while (true) {
    const int64_t now = NowMs();
    fds.clear();
    fds.push_back({wake_read_, POLLIN, 0});
    const bool accepting = static_cast<int>(conns.size()) < kMaxConnections &&
                           now >= accept_paused_until_ms;
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    int64_t next_ms = accepting ? -1 : accept_paused_until_ms;
    for (const Connection& c : conns) {
      fds.push_back(
          {c.fd, static_cast<short>(c.answered ? POLLOUT : POLLIN), 0});
      if (next_ms < 0 || c.deadline_ms < next_ms) next_ms = c.deadline_ms;
    }
    const int timeout =
        next_ms < 0 ? -1
                    : static_cast<int>(std::max<int64_t>(0, next_ms - now));
    if (poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("metrics endpoint stops: poll failed: {}",
                    std::strerror(errno));
      break;
    }
    if (fds[0].revents != 0) break;
    // Connections first (their indexes match fds[2..]), then new ones.
    const int64_t after = NowMs();
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      const short ev = fds[i + 2].revents;
      bool done = after >= c.deadline_ms;
      if (!done && !c.answered && (ev & (POLLIN | POLLHUP | POLLERR))) {
        char buf[4096];
        const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
        if (n > 0) {
          c.in.append(buf, static_cast<size_t>(n));
          if (c.in.find("\r\n\r\n") != std::string::npos) {
            c.out = Answer(c.in, render_, access_.get());
            c.answered = true;
          } else if (c.in.size() > kMaxRequestBytes) {
            c.out = Response(431, "Request Header Fields Too Large",
                             "text/plain", "request too large\n");
            c.answered = true;
          }
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          done = true;  // closed before a full request
        }
      }
      if (!done && c.answered && (ev & (POLLOUT | POLLHUP | POLLERR))) {
        const ssize_t n = send(c.fd, c.out.data() + c.sent,
                               c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n > 0) {
          c.sent += static_cast<size_t>(n);
          done = c.sent == c.out.size();
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          done = true;
        }
      }
      if (done) {
        close(c.fd);
        c.fd = -1;
      }
    }
    conns.erase(std::remove_if(conns.begin(), conns.end(),
                               [](const Connection& c) { return c.fd < 0; }),
                conns.end());
    if (accepting && (fds[1].revents & POLLIN)) {
      while (static_cast<int>(conns.size()) < kMaxConnections) {
        const int fd =
            accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
          conns.push_back({fd, NowMs() + kConnectionTimeoutMs, {}, {}});
          continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
          // Out of descriptors: the pending connection stays queued, and
          // polling the listener now would spin; look again shortly.
          accept_paused_until_ms = NowMs() + kAcceptRetryMs;
        }
        break;
      }
    }
  }
  for (const Connection& c : conns) close(c.fd);
}

}  // namespace serval
