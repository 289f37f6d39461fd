#include "repository/storage/http_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace serval {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

struct HttpClientConnection::Impl {
  Impl(HttpEndpoint e, std::chrono::milliseconds t)
      : endpoint(std::move(e)),
        timeout(t),
        ssl(asio::ssl::context::tls_client) {
    ssl.set_options(
        asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
        asio::ssl::context::no_tlsv1_1);
    ssl.set_verify_mode(asio::ssl::verify_peer);
    boost::system::error_code ec;
    if (endpoint.ca_file.empty()) {
      ssl.set_default_verify_paths(ec);
    } else {
      ssl.load_verify_file(endpoint.ca_file, ec);
      if (ec)
        setup_error = absl::StrCat("cannot read the CA file '",
                                   endpoint.ca_file, "': ", ec.message());
    }
  }

  std::string Where() const {
    return absl::StrCat(endpoint.tls ? "https://" : "http://", endpoint.host,
                        ":", endpoint.port);
  }

  absl::Status Fail(const boost::system::error_code& ec, const char* during) {
    Close();
    const std::string text =
        absl::StrCat(during, " ", Where(), ": ", ec.message());
    if (ec == beast::error::timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat(text, " (no answer within ", timeout.count(), " ms)"));
    }
    return absl::UnavailableError(text);
  }

  void Close() {
    plain.reset();
    secure.reset();
  }

  beast::tcp_stream& Lowest() {
    return secure ? beast::get_lowest_layer(*secure) : *plain;
  }

  // Runs the queued operation to completion.
  void Run() {
    io.restart();
    io.run();
  }

  absl::Status Connect() {
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    tcp::resolver::results_type results;
    resolver.async_resolve(endpoint.host, endpoint.port, [&](auto e, auto r) {
      ec = e;
      results = r;
    });
    Run();
    if (ec) return Fail(ec, "cannot resolve");
    if (endpoint.tls) {
      secure.emplace(io, ssl);
      // SNI and host name verification.
      if (!SSL_set_tlsext_host_name(secure->native_handle(),
                                    endpoint.host.c_str())) {
        return absl::InternalError("cannot set the TLS server name");
      }
      secure->set_verify_callback(
          asio::ssl::host_name_verification(endpoint.host));
    } else {
      plain.emplace(io);
    }
    Lowest().expires_after(timeout);
    Lowest().async_connect(results, [&](auto e, auto) { ec = e; });
    Run();
    if (ec) return Fail(ec, "cannot connect to");
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if (secure) {
      Lowest().expires_after(timeout);
      secure->async_handshake(asio::ssl::stream_base::client,
                              [&](auto e) { ec = e; });
      Run();
      if (ec) return Fail(ec, "TLS handshake with");
    }
    return absl::OkStatus();
  }

  template <typename Stream>
  absl::StatusOr<HttpResponse> Exchange(Stream& stream,
                                        const HttpRequest& request,
                                        size_t body_limit, const BodySink* sink,
                                        bool* reused_dead) {
    http::request<http::empty_body> req;
    req.method_string(request.method);
    req.target(request.target);
    req.version(11);
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.set(http::field::user_agent, "serval");
    boost::system::error_code ec;
    Lowest().expires_after(timeout);
    http::async_write(stream, req, [&](auto e, auto) { ec = e; });
    Run();
    if (ec) {
      *reused_dead = true;
      return Fail(ec, "cannot send to");
    }
    // The body is read a chunk at a time into a buffer reused by every
    // exchange: an 8 MiB part read into a fresh string cost more in page
    // faults than in transfer. Beast also reads at most the flat buffer's
    // free capacity per read (64 KiB at most): a buffer that never grew
    // read 512 bytes per read.
    buffer.reserve(kReadBytes);
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(body_limit);
    parser.header_limit(64 * 1024);
    Lowest().expires_after(timeout);
    http::async_read_header(stream, buffer, parser,
                            [&](auto e, auto) { ec = e; });
    Run();
    if (ec) {
      // Nothing of an answer: the server closed an idle keep-alive
      // connection; the caller may send once more on a fresh one.
      *reused_dead = ec == http::error::end_of_stream ||
                     ec == asio::error::connection_reset;
      return Fail(ec, "no answer from");
    }
    HttpResponse out;
    out.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      out.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    const bool to_sink = sink != nullptr && out.status / 100 == 2;
    if (to_sink && !parser.chunked() && parser.content_length().has_value()) {
      return ReadLengthToSink(stream, *parser.content_length(), body_limit,
                              parser.get().keep_alive(), *sink, std::move(out));
    }
    if (!to_sink && parser.content_length().has_value() &&
        *parser.content_length() <= body_limit) {
      out.body.reserve(static_cast<size_t>(*parser.content_length()));
    }
    chunk.resize(kChunkBytes);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      Lowest().expires_after(timeout);
      http::async_read(stream, buffer, parser, [&](auto e, auto) { ec = e; });
      Run();
      if (ec == http::error::need_buffer) ec = {};
      if (ec == http::error::body_limit) {
        return TooLarge(body_limit);
      }
      if (ec) return Fail(ec, "no answer from");
      const size_t n = chunk.size() - parser.get().body().size;
      out.body_bytes += n;
      if (n == 0) continue;
      const std::string_view piece(chunk.data(), n);
      if (to_sink) {
        if (absl::Status s = Deliver(*sink, piece); !s.ok()) return s;
      } else {
        out.body.append(piece);
      }
    }
    if (!parser.get().keep_alive()) Close();
    return out;
  }

  // A body of known length for a sink, read from the stream straight into
  // `chunk`, up to kChunkBytes per read. Beast's parser reads at most
  // 64 KiB at a time through the flat buffer and copies out of it: for a
  // 100 MB model that was 1,600 reads, each with its own wait and timer,
  // and one more copy of every byte.
  template <typename Stream>
  absl::StatusOr<HttpResponse> ReadLengthToSink(Stream& stream, uint64_t length,
                                                size_t body_limit,
                                                bool keep_alive,
                                                const BodySink& sink,
                                                HttpResponse out) {
    if (length > body_limit) {
      return TooLarge(body_limit);
    }
    // What came with the header first.
    const size_t buffered =
        static_cast<size_t>(std::min<uint64_t>(buffer.size(), length));
    if (buffered > 0) {
      const std::string_view head(
          static_cast<const char*>(buffer.data().data()), buffered);
      if (absl::Status s = Deliver(sink, head); !s.ok()) return s;
      buffer.consume(buffered);
      out.body_bytes += buffered;
    }
    chunk.resize(kChunkBytes);
    boost::system::error_code ec;
    while (out.body_bytes < length) {
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(chunk.size(), length - out.body_bytes));
      size_t n = 0;
      Lowest().expires_after(timeout);
      stream.async_read_some(asio::buffer(chunk.data(), want),
                             [&](auto e, size_t got) {
                               ec = e;
                               n = got;
                             });
      Run();
      if (ec) return Fail(ec, "no answer from");
      if (absl::Status s = Deliver(sink, std::string_view(chunk.data(), n));
          !s.ok()) {
        return s;
      }
      out.body_bytes += n;
    }
    if (!keep_alive) Close();
    return out;
  }

  // A body over the caller's limit: the rest is not read.
  absl::Status TooLarge(size_t body_limit) {
    Close();
    return absl::ResourceExhaustedError(absl::StrCat(
        "an answer from ", Where(), " is over ", body_limit, " bytes"));
  }

  // Hands `piece` to the sink; when it fails, the rest of the body is not
  // read, so the connection cannot be reused.
  absl::Status Deliver(const BodySink& sink, std::string_view piece) {
    absl::Status s = sink(piece);
    if (!s.ok()) Close();
    return s;
  }

  static constexpr size_t kReadBytes = 64 * 1024;
  static constexpr size_t kChunkBytes = 256 * 1024;

  HttpEndpoint endpoint;
  std::chrono::milliseconds timeout;
  asio::ssl::context ssl;
  std::string setup_error;
  asio::io_context io;
  beast::flat_buffer buffer;
  std::vector<char> chunk;  // a body's bytes on their way out
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
};

HttpClientConnection::HttpClientConnection(HttpEndpoint endpoint,
                                           std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(endpoint), timeout)) {}

HttpClientConnection::~HttpClientConnection() = default;

absl::StatusOr<HttpResponse> HttpClientConnection::Send(
    const HttpRequest& request, size_t body_limit, const BodySink* sink) {
  Impl& m = *impl_;
  if (!m.setup_error.empty()) return absl::InvalidArgumentError(m.setup_error);
  for (int attempt = 0;; ++attempt) {
    const bool reused = m.plain.has_value() || m.secure.has_value();
    if (!reused) {
      if (absl::Status s = m.Connect(); !s.ok()) return s;
    }
    m.buffer.clear();
    bool dead = false;
    absl::StatusOr<HttpResponse> response =
        m.secure ? m.Exchange(*m.secure, request, body_limit, sink, &dead)
                 : m.Exchange(*m.plain, request, body_limit, sink, &dead);
    if (response.ok() || !(reused && dead) || attempt > 0) return response;
  }
}

}  // namespace serval
