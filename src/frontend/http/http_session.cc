#include "frontend/http/http_session.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "frontend/http/rest_json.h"
#include "spdlog/spdlog.h"

namespace serval::http {

HttpSession::HttpSession(std::shared_ptr<asio::io_context> io,
                         std::shared_ptr<const std::atomic<bool>> stopped,
                         std::shared_ptr<SessionRegistry> registry,
                         asio::ip::tcp::socket socket, SessionLimits limits,
                         RestHandler* handler)
    : io_(std::move(io)),
      stopped_(std::move(stopped)),
      registry_(std::move(registry)),
      stream_(std::move(socket)),
      limits_(limits),
      handler_(handler) {}

HttpSession::~HttpSession() { registry_->Remove(this); }

void HttpSession::Start() {
  const bool accepted = registry_->Add(this, weak_from_this());
  // The socket was accepted onto a strand; start there too.
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), accepted] {
    if (accepted) {
      self->ReadHeader();
    } else {
      self->Close();
    }
  });
}

void HttpSession::CloseSoon() {
  asio::post(stream_.get_executor(),
             [self = shared_from_this()] { self->Close(); });
}

void HttpSession::ReadHeader() {
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<uint32_t>(limits_.max_header_bytes));
  // One deadline for the whole request, idle time before it included:
  // a slow sender cannot hold the connection longer than an idle one.
  stream_.expires_after(limits_.read_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) {
        self->OnHeader(ec);
      });
}

void HttpSession::OnHeader(beast::error_code ec) {
  if (closed_) return;  // closed by Stop() or a timeout meanwhile
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::eof) {
    return Close();
  }
  if (ec == bhttp::error::header_limit) {
    return Reject(431, absl::StrCat("request header is larger than the ",
                                    limits_.max_header_bytes,
                                    "-byte limit"));
  }
  if (ec == bhttp::error::body_limit) {
    return Reject(413, absl::StrCat("request body is larger than the ",
                                    limits_.max_body_bytes, "-byte limit"));
  }
  if (ec) {
    return Reject(400, absl::StrCat("malformed HTTP request: ", ec.message()));
  }
  const auto& req = parser_->get();
  if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
    // curl waits a second for this before sending a large body.
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
        bhttp::status::continue_, req.version());
    bhttp::async_write(stream_, *cont,
                       [self = shared_from_this(), cont](beast::error_code ec,
                                                         size_t) {
                         if (ec) return self->Close();
                         self->ReadBody();
                       });
    return;
  }
  ReadBody();
}

void HttpSession::ReadBody() {
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->OnBody(ec);
                    });
}

void HttpSession::OnBody(beast::error_code ec) {
  if (closed_) return;
  if (ec == bhttp::error::body_limit) {
    return Reject(413, absl::StrCat("request body is larger than the ",
                                    limits_.max_body_bytes, "-byte limit"));
  }
  if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
      ec == bhttp::error::partial_message || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    return Close();
  }
  if (ec) {
    return Reject(400, absl::StrCat("malformed HTTP request: ", ec.message()));
  }
  Dispatch();
}

void HttpSession::Dispatch() {
  stream_.expires_never();
  bhttp::request<bhttp::string_body> req = parser_->release();
  keep_alive_ = req.keep_alive();
  RestRequest rest;
  rest.method = std::string(req.method_string());
  rest.target = std::string(req.target());
  rest.content_type = std::string(req[bhttp::field::content_type]);
  const auto header_length = req["Inference-Header-Content-Length"];
  if (!header_length.empty()) {
    size_t value = 0;
    auto [end, err] = std::from_chars(
        header_length.data(), header_length.data() + header_length.size(),
        value);
    if (err != std::errc() ||
        end != header_length.data() + header_length.size()) {
      return Write(ErrorReply(400, "Inference-Header-Content-Length must be "
                                   "a non-negative integer"),
                   keep_alive_);
    }
    rest.inference_header_length = value;
  }
  rest.body = std::make_shared<const std::string>(std::move(req.body()));
  cancellation_ = std::make_shared<CancellationFlag>();
  rest.cancellation = cancellation_;
  in_flight_ = true;

  auto self = shared_from_this();
  ReplyFn done = [self](RestReply reply) { self->OnReply(std::move(reply)); };
  RunFn on_connection = [self](std::function<void()> fn) {
    if (self->stopped_->load()) return;  // dropped: the server is gone
    asio::post(self->stream_.get_executor(), std::move(fn));
  };
  handler_->Handle(std::move(rest), std::move(done), std::move(on_connection));
  if (in_flight_) WatchForDisconnect();
}

void HttpSession::WatchForDisconnect() {
  // While the server works on the request nothing reads the socket; a
  // readable socket then means either a pipelined request or the client
  // leaving. Only the latter cancels the request.
  stream_.socket().async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](beast::error_code ec) {
        self->OnReadable(ec);
      });
}

void HttpSession::OnReadable(beast::error_code ec) {
  if (ec || !in_flight_ || closed_) return;
  char byte;
  const ssize_t n = ::recv(stream_.socket().native_handle(), &byte, 1,
                           MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return;  // pipelined request: read it after this reply
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return WatchForDisconnect();
  }
  spdlog::debug("http: client left before its reply; cancelling the request");
  cancellation_->Cancel();
  Close();
}

void HttpSession::OnReply(RestReply reply) {
  // Runs on the strand (directly for quick endpoints, posted otherwise).
  in_flight_ = false;
  if (closed_) return;  // the client left; nobody to answer
  beast::error_code ignored;
  stream_.socket().cancel(ignored);  // ends WatchForDisconnect
  Write(std::move(reply), keep_alive_);
}

void HttpSession::Write(RestReply reply, bool keep_alive) {
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  res->version(11);
  res->result(static_cast<unsigned>(reply.status));
  res->set(bhttp::field::server, "serval");
  if (!reply.content_type.empty()) {
    res->set(bhttp::field::content_type, reply.content_type);
  }
  for (auto& [name, value] : reply.headers) res->set(name, value);
  res->keep_alive(keep_alive);
  res->body() = std::move(reply.body);
  res->prepare_payload();
  response_ = res;
  stream_.expires_after(limits_.write_timeout);
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), keep_alive](
                         beast::error_code ec, size_t) {
                       self->OnWrite(keep_alive, ec);
                     });
}

void HttpSession::OnWrite(bool keep_alive, beast::error_code ec) {
  response_.reset();
  if (!ec && linger_) return LingerClose();
  if (ec || !keep_alive) return Close();
  ReadHeader();
}

void HttpSession::Reject(int status, std::string_view message) {
  // The rest of the request is not read, so the connection cannot be
  // reused.
  keep_alive_ = false;
  linger_ = true;
  Write(ErrorReply(status, message), false);
}

void HttpSession::LingerClose() {
  // Closing a socket with unread input makes the kernel send a reset,
  // which can destroy the error reply before the client reads it. Stop
  // sending, then discard what the client still sends, for a short while.
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::chrono::seconds(2));
  Drain();
}

void HttpSession::Drain() {
  auto scratch = std::make_shared<std::array<char, 16384>>();
  stream_.async_read_some(
      asio::buffer(*scratch),
      [self = shared_from_this(), scratch](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->Drain();
      });
}

void HttpSession::Close() {
  if (closed_) return;
  closed_ = true;
  // A request still with the server has nobody left to answer.
  if (in_flight_ && cancellation_) cancellation_->Cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.socket().close(ignored);
}

}  // namespace serval::http
