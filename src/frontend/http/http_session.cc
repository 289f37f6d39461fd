#include "frontend/http/http_session.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "frontend/http/rest_json.h"
#include "spdlog/spdlog.h"

namespace serval::http {

namespace {

// The stream of a new session: a TLS stream wraps the TCP one.
template <class Stream>
Stream MakeStream(SessionSocket socket, asio::ssl::context* tls) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    return Stream(std::move(socket), *tls);
  } else {
    return Stream(std::move(socket));
  }
}

// Looks headers up in `fields`, which must outlive the lookup.
AccessPolicy::HeaderLookup HeadersOf(const bhttp::fields& fields) {
  return [&fields](std::string_view name) -> std::optional<std::string_view> {
    auto it = fields.find(beast::string_view(name.data(), name.size()));
    if (it == fields.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  };
}

}  // namespace

template <class Stream>
BasicHttpSession<Stream>::BasicHttpSession(
    std::shared_ptr<asio::io_context> io,
    std::shared_ptr<const std::atomic<bool>> stopped,
    std::shared_ptr<SessionRegistry> registry, SessionSocket socket,
    SessionLimits limits, RestHandler* handler,
    std::shared_ptr<asio::ssl::context> tls)
    : io_(std::move(io)),
      stopped_(std::move(stopped)),
      registry_(std::move(registry)),
      tls_(std::move(tls)),
      stream_(MakeStream<Stream>(std::move(socket), tls_.get())),
      limits_(limits),
      handler_(handler) {}

template <class Stream>
BasicHttpSession<Stream>::~BasicHttpSession() {
  registry_->ReleaseBody(reserved_body_bytes_);
  registry_->Remove(this);
}

template <class Stream>
void BasicHttpSession<Stream>::Start() {
  const SessionRegistry::AddResult added =
      registry_->Add(this, this->weak_from_this());
  // The socket was accepted onto a strand; start there too.
  asio::dispatch(stream_.get_executor(),
                 [self = this->shared_from_this(), added] {
                   switch (added) {
                     case SessionRegistry::AddResult::kAdded:
                       return self->ReadHeader();
                     case SessionRegistry::AddResult::kFull:
                       // Said, not just closed: the client can tell this from a
                       // crash. Over TLS it can only be said once the handshake
                       // is done.
                       if constexpr (kTls) {
                         self->full_ = true;
                         return self->ReadHeader();
                       }
                       return self->RejectFull();
                     case SessionRegistry::AddResult::kStopped:
                       return self->Close();
                   }
                 });
}

template <class Stream>
void BasicHttpSession<Stream>::ReleaseBody() {
  registry_->ReleaseBody(reserved_body_bytes_);
  reserved_body_bytes_ = 0;
  // An idle keep-alive connection holds no body.
  std::string().swap(body_);
}

template <class Stream>
void BasicHttpSession<Stream>::CloseSoon() {
  asio::post(stream_.get_executor(),
             [self = this->shared_from_this()] { self->Close(); });
}

template <class Stream>
void BasicHttpSession<Stream>::ReadHeader() {
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
  tcp().expires_after(limits_.read_timeout);
  if (!handshaken_) {
    // A TLS connection's first bytes are read raw: a client speaking
    // plain HTTP to this port is told so instead of failing a handshake.
    tcp().async_read_some(
        buffer_.prepare(kFirstReadBytes),
        [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          self->OnTlsFirstBytes(ec, n);
        });
    return;
  }
  if (buffer_.size() == 0) {
    // Beast parses nothing before the blank line ending the header, so a
    // client sending bytes that cannot start a request (TLS to the plain
    // port, binary garbage) would wait for the read timeout. Its first
    // bytes are looked at as they arrive instead.
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          self->OnFirstBytes(ec, n);
        });
    return;
  }
  ReadHeaderRest();
}

template <class Stream>
void BasicHttpSession<Stream>::OnFirstBytes(beast::error_code ec, size_t n) {
  if (closed_) return;
  if (ec) return Close();  // idle timeout, or the client went away
  buffer_.commit(n);
  // A request has begun: its header must arrive within the header
  // timeout (a client dribbling header bytes holds a connection that
  // long, not the whole read timeout).
  tcp().expires_after(std::min(limits_.header_timeout, limits_.read_timeout));
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

template <class Stream>
void BasicHttpSession<Stream>::OnTlsFirstBytes(beast::error_code ec, size_t n) {
  if constexpr (kTls) {
    if (closed_) return;
    if (ec) return Close();
    buffer_.commit(n);
    // The handshake must finish within the header timeout.
    tcp().expires_after(std::min(limits_.header_timeout, limits_.read_timeout));
    // A TLS connection starts with a handshake record (content type 22).
    if (static_cast<const unsigned char*>(buffer_.data().data())[0] != 0x16) {
      return RejectPlainText();
    }
    stream_.async_handshake(
        asio::ssl::stream_base::server, buffer_.data(),
        [self = this->shared_from_this()](beast::error_code ec, size_t used) {
          self->OnHandshake(ec, used);
        });
  }
}

template <class Stream>
void BasicHttpSession<Stream>::OnHandshake(beast::error_code ec, size_t used) {
  if (closed_) return;
  if (ec) {
    // A wrong client certificate, an old protocol version, a scanner:
    // nothing to answer over a channel that never opened.
    spdlog::debug("http: TLS handshake failed: {}", ec.message());
    return Close();
  }
  buffer_.consume(used);
  handshaken_ = true;
  if (full_) return RejectFull();
  ReadHeader();
}

template <class Stream>
void BasicHttpSession<Stream>::RejectPlainText() {
  static const std::string kReply = [] {
    const std::string body =
        ErrorJson("this port speaks TLS: use https:// (a TLS client)");
    return absl::StrCat(
        "HTTP/1.1 400 Bad Request\r\nServer: serval\r\n"
        "Content-Type: application/json\r\nContent-Length: ",
        body.size(), "\r\nConnection: close\r\n\r\n", body);
  }();
  asio::async_write(
      tcp(), asio::buffer(kReply.data(), kReply.size()),
      [self = this->shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->LingerClose();
      });
}

template <class Stream>
void BasicHttpSession<Stream>::ReadHeaderRest() {
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) {
        self->OnHeader(ec);
      });
}

template <class Stream>
void BasicHttpSession<Stream>::OnHeader(beast::error_code ec) {
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
  // Credentials are checked before the body is read or counted against
  // the body budget: an anonymous client cannot hold the budget (or make
  // the server read its upload) for a request it will be refused.
  {
    const auto& header = parser_->get();
    const AccessPolicy::HeaderLookup headers = HeadersOf(header);
    const auto target = header.target();
    if (auto refused = handler_->CheckAccessFor(
            std::string_view(target.data(), target.size()), &headers)) {
      return RejectWith(*std::move(refused));
    }
  }
  // The body may take the read timeout, from the end of the header.
  tcp().expires_after(limits_.read_timeout);
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
        [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          self->ReadBody();
        });
    return;
  }
  ReadBody();
}

template <class Stream>
void BasicHttpSession<Stream>::ReadBody() {
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
                    [self = this->shared_from_this()](
                        beast::error_code ec, size_t) { self->OnBody(ec); });
}

template <class Stream>
void BasicHttpSession<Stream>::OnBody(beast::error_code ec) {
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

template <class Stream>
void BasicHttpSession<Stream>::Dispatch() {
  tcp().expires_never();
  // An idle keep-alive connection keeps only a header-sized buffer.
  if (buffer_.size() == 0 && buffer_.capacity() > kIdleBufferBytes) {
    buffer_.shrink_to_fit();
  }
  bhttp::request<bhttp::string_body> req = parser_->release();
  keep_alive_ = req.keep_alive();
  RestRequest rest;
  const AccessPolicy::HeaderLookup headers = HeadersOf(req);
  rest.headers = &headers;
  // OnHeader checked the credentials before the body was read.
  rest.access_checked = true;
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
  self_in_flight_ = this->shared_from_this();
  handler_->Handle(rest, this);
  if (in_flight_) WatchForDisconnect();
}

template <class Stream>
void BasicHttpSession<Stream>::WatchForDisconnect() {
  // While the server works on the request nothing reads the socket; a
  // readable socket then means either a pipelined request or the client
  // leaving. Only the latter cancels the request.
  tcp().socket().async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = this->shared_from_this()](beast::error_code ec) {
        self->OnReadable(ec);
      });
}

template <class Stream>
void BasicHttpSession<Stream>::OnReadable(beast::error_code ec) {
  if (ec || !in_flight_ || closed_) return;
  char byte;
  const ssize_t n =
      ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // A TLS client that leaves first sends a close_notify alert (record
  // type 21); anything else is a pipelined request, read after this reply.
  if (n > 0 && !(kTls && static_cast<unsigned char>(byte) == 0x15)) return;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return WatchForDisconnect();
  }
  spdlog::debug("http: client left before its reply; cancelling the request");
  cancellation_.Cancel();
  Close();
}

template <class Stream>
void BasicHttpSession<Stream>::Reply(RestReply reply) {
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

template <class Stream>
void BasicHttpSession<Stream>::OnInferComplete(InferenceResponse response) {
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

template <class Stream>
void BasicHttpSession<Stream>::OnReply(RestReply reply) {
  // On the strand. The session lives at least to the end of this call.
  std::shared_ptr<HttpSession> self = std::move(self_in_flight_);
  in_flight_ = false;
  if (closed_) return;  // the client left; nobody to answer
  beast::error_code ignored;
  tcp().socket().cancel(ignored);  // ends WatchForDisconnect
  Write(std::move(reply), keep_alive_);
}

template <class Stream>
void BasicHttpSession<Stream>::Write(RestReply reply, bool keep_alive) {
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
  tcp().expires_after(limits_.write_timeout);
  bhttp::async_write(
      stream_, res,
      [self = this->shared_from_this(), keep_alive](
          beast::error_code ec, size_t) { self->OnWrite(keep_alive, ec); });
}

template <class Stream>
void BasicHttpSession<Stream>::OnWrite(bool keep_alive, beast::error_code ec) {
  response_.reset();
  ReleaseBody();
  if (!ec && linger_) return LingerClose();
  if (ec || !keep_alive) return Close();
  ReadHeader();
}

template <class Stream>
void BasicHttpSession<Stream>::Reject(int status, std::string_view message) {
  RejectWith(ErrorReply(status, message));
}

template <class Stream>
void BasicHttpSession<Stream>::RejectWith(RestReply reply) {
  // The rest of the request is not read, so the connection cannot be
  // reused.
  keep_alive_ = false;
  linger_ = true;
  Write(std::move(reply), false);
}

template <class Stream>
void BasicHttpSession<Stream>::RejectFull() {
  Reject(503,
         "the server has too many connections open "
         "(--http-max-connections); retry later");
}

template <class Stream>
void BasicHttpSession<Stream>::LingerClose() {
  // Closing a socket with unread input makes the kernel send a reset,
  // which can destroy the error reply before the client reads it. Stop
  // sending, then discard what the client still sends, for a short while.
  beast::error_code ignored;
  tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  tcp().expires_after(std::chrono::seconds(2));
  Drain();
}

template <class Stream>
void BasicHttpSession<Stream>::Drain() {
  auto scratch = std::make_shared<std::array<char, 16384>>();
  auto next = [self = this->shared_from_this(), scratch](beast::error_code ec,
                                                         size_t) {
    if (ec) return self->Close();
    self->Drain();
  };
  // Before a TLS handshake there is no TLS to read through.
  if (handshaken_) {
    stream_.async_read_some(asio::buffer(*scratch), std::move(next));
  } else {
    tcp().async_read_some(asio::buffer(*scratch), std::move(next));
  }
}

template <class Stream>
void BasicHttpSession<Stream>::Close() {
  if (closed_) return;
  closed_ = true;
  // A request still with the server has nobody left to answer.
  if (in_flight_) cancellation_.Cancel();
  beast::error_code ignored;
  tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  tcp().socket().close(ignored);
}

template class BasicHttpSession<PlainStream>;
template class BasicHttpSession<TlsStream>;

}  // namespace serval::http
