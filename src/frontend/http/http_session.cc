#include "frontend/http/http_session.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "frontend/http/rest_json.h"
#include "spdlog/spdlog.h"

namespace serval::http {

HttpSession::HttpSession(std::shared_ptr<asio::io_context> io,
                         std::shared_ptr<const std::atomic<bool>> stopped,
                         std::shared_ptr<SessionRegistry> registry,
                         SessionSocket socket, SessionLimits limits,
                         RestHandler* handler)
    : io_(std::move(io)),
      stopped_(std::move(stopped)),
      registry_(std::move(registry)),
      stream_(std::move(socket)),
      limits_(limits),
      handler_(handler) {}

HttpSession::~HttpSession() {
  registry_->ReleaseBody(reserved_body_bytes_);
  registry_->Remove(this);
}

void HttpSession::Start() {
  const SessionRegistry::AddResult added =
      registry_->Add(this, weak_from_this());
  // The socket was accepted onto a strand; start there too.
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), added] {
    switch (added) {
      case SessionRegistry::AddResult::kAdded:
        return self->ReadHeader();
      case SessionRegistry::AddResult::kFull:
        // Said, not just closed: the client can tell this from a crash.
        return self->Reject(503,
                            "the server has too many connections open "
                            "(--http-max-connections); retry later");
      case SessionRegistry::AddResult::kStopped:
        return self->Close();
    }
  });
}

void HttpSession::ReleaseBody() {
  registry_->ReleaseBody(reserved_body_bytes_);
  reserved_body_bytes_ = 0;
  // An idle keep-alive connection holds no body.
  std::string().swap(body_);
}

void HttpSession::CloseSoon() {
  asio::post(stream_.get_executor(),
             [self = shared_from_this()] { self->Close(); });
}

void HttpSession::ReadHeader() {
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<uint32_t>(limits_.max_header_bytes));
  chunks_ = 0;
  too_many_chunks_ = false;
  if (!on_chunk_) {
    on_chunk_ = [this](std::uint64_t, beast::string_view,
                       beast::error_code& ec) {
      if (++chunks_ > limits_.max_body_chunks) {
        too_many_chunks_ = true;
        ec = bhttp::error::bad_chunk;
      }
    };
  }
  parser_->on_chunk_header(on_chunk_);
  // How long the connection may wait idle for a request; once its first
  // bytes are in, the header timeout applies, then the read timeout again
  // for the body.
  stream_.expires_after(limits_.read_timeout);
  if (buffer_.size() == 0) {
    // Beast parses nothing before the blank line ending the header, so a
    // client sending bytes that cannot start a request (TLS to the plain
    // port, binary garbage) would wait for the read timeout. Its first
    // bytes are looked at as they arrive instead.
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->OnFirstBytes(ec, n);
        });
    return;
  }
  ReadHeaderRest();
}

void HttpSession::OnFirstBytes(beast::error_code ec, size_t n) {
  if (closed_) return;
  if (ec) return Close();  // idle timeout, or the client went away
  buffer_.commit(n);
  // A request has begun: its header must arrive within the header
  // timeout (a client dribbling header bytes holds a connection that
  // long, not the whole read timeout).
  stream_.expires_after(std::min(limits_.header_timeout, limits_.read_timeout));
  const auto* data = static_cast<const unsigned char*>(buffer_.data().data());
  // A request line starts with a method: a token (RFC 9110), letters in
  // practice. Leading CRLFs before a request are allowed (RFC 9112 2.2).
  const unsigned char c = data[0];
  const bool token = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || c == '\r' || c == '\n' ||
                     std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  if (!token || c == 0) {
    return Reject(400,
                  "malformed HTTP request: the first bytes are not a request "
                  "line (is the client speaking TLS or another protocol to "
                  "this plain HTTP port?)");
  }
  ReadHeaderRest();
}

void HttpSession::ReadHeaderRest() {
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
                                    limits_.max_header_bytes, "-byte limit"));
  }
  if (ec == bhttp::error::body_limit) {
    return Reject(413, absl::StrCat("request body is larger than the ",
                                    limits_.max_body_bytes, "-byte limit"));
  }
  if (ec) {
    return Reject(400, absl::StrCat("malformed HTTP request: ", ec.message()));
  }
  // The body may take the read timeout, from the end of the header.
  stream_.expires_after(limits_.read_timeout);
  // The body's bytes count against the server-wide budget until the
  // response is written; a chunked body may grow to the body limit.
  const auto length = parser_->content_length();
  const size_t need = length.has_value()   ? static_cast<size_t>(*length)
                      : parser_->chunked() ? limits_.max_body_bytes
                                           : 0;
  if (!registry_->ReserveBody(need)) {
    return Reject(
        503, absl::StrCat("the server is receiving too many request bodies "
                          "at once (more than ",
                          registry_->max_body_bytes(),
                          " bytes, --http-max-pending-body-bytes); retry "
                          "later"));
  }
  reserved_body_bytes_ = need;
  const auto& req = parser_->get();
  if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
    // curl waits a second for this before sending a large body.
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
        bhttp::status::continue_, req.version());
    bhttp::async_write(
        stream_, *cont,
        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          self->ReadBody();
        });
    return;
  }
  ReadBody();
}

void HttpSession::ReadBody() {
  // Beast reads at most the buffer's free capacity per read (64 KiB at
  // most), and the parser moves body bytes out at once, so a buffer left
  // at its header-sized capacity reads a large body a kilobyte per
  // asynchronous operation: a 600 KB tensor cost ~600 reads (and timer
  // updates) and most of its CPU. A body larger than the buffer gets
  // 64 KiB of room; Dispatch() gives it back.
  const auto length = parser_->content_length();
  if (!length.has_value() || *length > buffer_.capacity() - buffer_.size()) {
    buffer_.reserve(buffer_.size() + kLargeReadBytes);
  }
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->OnBody(ec);
                    });
}

void HttpSession::OnBody(beast::error_code ec) {
  if (closed_) return;
  if (too_many_chunks_) {
    return Reject(400, absl::StrCat("the chunked request body has more than ",
                                    limits_.max_body_chunks,
                                    " chunks (--http-max-body-chunks); send "
                                    "larger chunks or a Content-Length"));
  }
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
  // An idle keep-alive connection keeps only a header-sized buffer.
  if (buffer_.size() == 0 && buffer_.capacity() > kIdleBufferBytes) {
    buffer_.shrink_to_fit();
  }
  bhttp::request<bhttp::string_body> req = parser_->release();
  keep_alive_ = req.keep_alive();
  RestRequest rest;
  const auto method = req.method_string();
  const auto target = req.target();
  const auto content_type = req[bhttp::field::content_type];
  rest.method = std::string_view(method.data(), method.size());
  rest.target = std::string_view(target.data(), target.size());
  rest.content_type =
      std::string_view(content_type.data(), content_type.size());
  const auto header_length = req["Inference-Header-Content-Length"];
  if (!header_length.empty()) {
    size_t value = 0;
    auto [end, err] =
        std::from_chars(header_length.data(),
                        header_length.data() + header_length.size(), value);
    if (err != std::errc() ||
        end != header_length.data() + header_length.size()) {
      return Write(ErrorReply(400,
                              "Inference-Header-Content-Length must be "
                              "a non-negative integer"),
                   keep_alive_);
    }
    rest.inference_header_length = value;
  }
  body_ = std::move(req.body());
  rest.body = body_;
  cancellation_.Reset();
  rest.cancellation = &cancellation_;
  in_flight_ = true;
  self_in_flight_ = shared_from_this();
  handler_->Handle(rest, this);
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
  cancellation_.Cancel();
  Close();
}

void HttpSession::Reply(RestReply reply) {
  if (stream_.get_executor().running_in_this_thread()) {
    return OnReply(std::move(reply));
  }
  if (stopped_->load()) {
    // The server is gone; nobody will write this. Released here, on the
    // calling thread (the session owns a share of the io_context).
    std::shared_ptr<HttpSession> self = std::move(self_in_flight_);
    return;
  }
  asio::post(stream_.get_executor(),
             [this, reply = std::move(reply)]() mutable {
               OnReply(std::move(reply));
             });
}

void HttpSession::OnInferComplete(InferenceResponse response) {
  if (stopped_->load()) {
    std::shared_ptr<HttpSession> self = std::move(self_in_flight_);
    return;
  }
  // Encode on the connection's strand, not on the worker thread that
  // completed the request: workers run models.
  asio::post(stream_.get_executor(),
             [this, response = std::move(response)]() mutable {
               OnReply(InferReply(std::move(response), encoding));
             });
}

void HttpSession::OnReply(RestReply reply) {
  // On the strand. The session lives at least to the end of this call.
  std::shared_ptr<HttpSession> self = std::move(self_in_flight_);
  in_flight_ = false;
  if (closed_) return;  // the client left; nobody to answer
  beast::error_code ignored;
  stream_.socket().cancel(ignored);  // ends WatchForDisconnect
  Write(std::move(reply), keep_alive_);
}

void HttpSession::Write(RestReply reply, bool keep_alive) {
  Response& res = response_.emplace();
  res.version(11);
  res.result(static_cast<unsigned>(reply.status));
  res.set(bhttp::field::server, "serval");
  if (!reply.content_type.empty()) {
    res.set(bhttp::field::content_type, reply.content_type);
  }
  for (auto& [name, value] : reply.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body().head = std::move(reply.body);
  res.body().tail = std::move(reply.tail);
  res.prepare_payload();
  stream_.expires_after(limits_.write_timeout);
  bhttp::async_write(
      stream_, res,
      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
        self->OnWrite(keep_alive, ec);
      });
}

void HttpSession::OnWrite(bool keep_alive, beast::error_code ec) {
  response_.reset();
  ReleaseBody();
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
  if (in_flight_) cancellation_.Cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.socket().close(ignored);
}

}  // namespace serval::http
