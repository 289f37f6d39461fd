// One HTTP/1.1 client connection, plain or TLS: reads requests
// (keep-alive, pipelined requests answered in order), hands each to
// RestHandler as a RestExchange and writes the reply. All of its socket
// work runs on the connection's strand. Owned by shared pointers held by its
// pending operations and, while a request is with the server, by itself
// (self_in_flight_), so a client that leaves mid-request does not free state
// the server still writes to; the late reply is dropped.
#ifndef SERVAL_FRONTEND_HTTP_HTTP_SESSION_H_
#define SERVAL_FRONTEND_HTTP_HTTP_SESSION_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "frontend/http/asio.h"
#include "frontend/http/gather_body.h"
#include "frontend/http/rest_handler.h"
#include "frontend/http/rest_types.h"
#include "frontend/http/session_registry.h"
#include "frontend/http/tls_context.h"

namespace serval::http {

struct SessionLimits {
  size_t max_body_bytes = 0;
  size_t max_header_bytes = 0;
  size_t max_body_chunks = 1u << 16;
  std::chrono::seconds read_timeout{60};
  // From a request's first byte to the end of its header.
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds write_timeout{60};
};

// A connection's executor: a strand of the server's io_context, named
// concretely so that no operation goes through a type-erased executor.
using SessionExecutor = asio::strand<asio::io_context::executor_type>;
using SessionSocket = asio::basic_stream_socket<asio::ip::tcp, SessionExecutor>;

// The stream types of a plain and a TLS connection.
using PlainStream = beast::basic_stream<asio::ip::tcp, SessionExecutor>;
using TlsStream = beast::ssl_stream<PlainStream>;

// What the server's registry sees of a connection, whatever its stream.
class HttpSession {
 public:
  virtual ~HttpSession() = default;
  // Thread-safe: closes the connection on its strand. For Stop().
  virtual void CloseSoon() = 0;
};

template <class Stream>
class BasicHttpSession final
    : public HttpSession,
      public std::enable_shared_from_this<BasicHttpSession<Stream>>,
      private RestExchange {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  // `handler` must outlive the I/O threads. The session shares ownership
  // of `io` (its socket belongs to it) so that a session freed on a worker
  // thread after the server stopped is still freed safely. Once `stopped`
  // is set, late replies are dropped instead of posted.
  // `tls` is the TLS context of a TLS session (kept alive by the session,
  // so a certificate reload does not touch connections already open);
  // null for a plain one.
  BasicHttpSession(std::shared_ptr<asio::io_context> io,
                   std::shared_ptr<const std::atomic<bool>> stopped,
                   std::shared_ptr<SessionRegistry> registry,
                   SessionSocket socket, SessionLimits limits,
                   RestHandler* handler,
                   std::shared_ptr<asio::ssl::context> tls = nullptr);
  ~BasicHttpSession() override;

  // Registers the session and starts reading; closes at once when the
  // server is stopping.
  void Start();
  void CloseSoon() override;

 private:
  using Parser = bhttp::request_parser<bhttp::string_body>;
  using Response = bhttp::response<GatherBody>;

  PlainStream& tcp() { return beast::get_lowest_layer(stream_); }
  // TLS: the handshake, fed with the bytes ReadHeader's first read got.
  void OnTlsFirstBytes(beast::error_code ec, size_t n);
  void OnHandshake(beast::error_code ec, size_t used);
  // Plain HTTP sent to the TLS port: a plain-text 400, then close.
  void RejectPlainText();

  // RestExchange: both may be called from any thread.
  void Reply(RestReply reply) override;
  void OnInferComplete(InferenceResponse response) override;

  void ReadHeader();
  // The first bytes of a request, checked before the header is parsed.
  void OnFirstBytes(beast::error_code ec, size_t n);
  void ReadHeaderRest();
  // Gives the body's bytes back to the server-wide budget and frees them.
  void ReleaseBody();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  void Dispatch();
  void WatchForDisconnect();
  void OnReadable(beast::error_code ec);
  void OnReply(RestReply reply);
  void Write(RestReply reply, bool keep_alive);
  void OnWrite(bool keep_alive, beast::error_code ec);
  // Answers a request that could not be read (or may not be), then
  // closes.
  void Reject(int status, std::string_view message);
  void RejectWith(RestReply reply);
  // The 503 of a connection over --http-max-connections.
  void RejectFull();
  void LingerClose();
  void Drain();
  void Close();

  // Declared first so that it is released last, after the socket.
  const std::shared_ptr<asio::io_context> io_;
  const std::shared_ptr<const std::atomic<bool>> stopped_;
  const std::shared_ptr<SessionRegistry> registry_;
  // Declared before the stream, whose SSL object uses it.
  const std::shared_ptr<asio::ssl::context> tls_;
  Stream stream_;
  const SessionLimits limits_;
  RestHandler* const handler_;
  // Read buffer: header-sized between requests, kLargeReadBytes of free
  // room while a large body arrives (see ReadBody).
  static constexpr size_t kLargeReadBytes = 64 * 1024;
  // What the first read of a request asks for: a typical request whole.
  static constexpr size_t kFirstReadBytes = 4096;
  static constexpr size_t kIdleBufferBytes = 16 * 1024;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  // Counts the chunks of a chunked body (the parser calls it per chunk).
  size_t chunks_ = 0;
  bool too_many_chunks_ = false;
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)>
      on_chunk_;
  // The body of the request in flight; its input views point into it.
  std::string body_;
  // Bytes of the body budget this request holds (SessionRegistry).
  size_t reserved_body_bytes_ = 0;
  CancellationFlag cancellation_;
  // Set while a request is with the server: keeps the session alive until
  // the reply comes back, wherever that happens.
  std::shared_ptr<HttpSession> self_in_flight_;
  bool keep_alive_ = false;
  // A request is with the server and no reply has been written yet.
  bool in_flight_ = false;
  bool closed_ = false;
  // Close with a short drain after the reply (the request was not read).
  bool linger_ = false;
  // The reply being written (one at a time).
  std::optional<Response> response_;
  // TLS: set once the handshake is done.
  bool handshaken_ = !kTls;
  // Over --http-max-connections: answered 503 (after the TLS handshake).
  bool full_ = false;
};

extern template class BasicHttpSession<PlainStream>;
extern template class BasicHttpSession<TlsStream>;

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_HTTP_SESSION_H_
