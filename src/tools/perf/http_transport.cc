#include "tools/perf/http_transport.h"

// clang-format off
#include <utility>  // before Asio: Boost 1.74 needs std::exchange declared
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on

#include <deque>
#include <limits>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace serval::perf {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Request = bhttp::request<bhttp::string_body>;
// Not boost::none: Boost 1.74 compares the length against the optional,
// and any value compares greater than none.
constexpr uint64_t kNoBodyLimit = std::numeric_limits<uint64_t>::max();

class HttpTransport;

// One keep-alive connection; runs one request at a time. Owned by the
// transport; its handlers run on the io threads.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpTransport* owner, asio::io_context& io)
      : owner_(owner), socket_(io) {}

  void Start(std::shared_ptr<const std::string> request, DoneCallback done);

 private:
  void Connect();
  void Write();
  // A server may close a keep-alive connection while it sits idle (its
  // idle timeout), and the close can cross the next request on the wire:
  // that request then fails before any byte of an answer. Like curl and
  // every browser, such a request is sent once more on a fresh connection.
  // True when it was.
  bool RetriedOnFreshConnection(const beast::error_code& ec);
  void Finish(const beast::error_code& ec, std::string_view stage);

  HttpTransport* owner_;
  tcp::socket socket_;
  bool connected_ = false;
  bool reused_ = false;   // this request went out on a connection used before
  bool retried_ = false;  // and was already sent again on a fresh one
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  std::shared_ptr<const std::string> request_;
  DoneCallback done_;
  int64_t write_start_ = 0;
  int64_t header_at_ = 0;
  Outcome outcome_;
};

class HttpTransport : public Transport {
 public:
  explicit HttpTransport(const TargetOptions& o) : options_(o) {}
  ~HttpTransport() override {
    guard_.reset();
    io_.stop();
    for (std::thread& t : threads_) t.join();
    absl::MutexLock lock(&mu_);
    idle_.clear();
    connections_.clear();
  }

  absl::Status Init() {
    beast::error_code ec;
    tcp::resolver resolver(io_);
    auto results =
        resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (ec || results.empty()) {
      return absl::UnavailableError(
          absl::StrCat("cannot resolve ", options_.host, ": ", ec.message()));
    }
    endpoint_ = results.begin()->endpoint();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ModelInfo> FetchModelInfo() override {
    ASSIGN_OR_RETURN(auto meta,
                     HttpGet(options_.host, options_.port, ModelPath()));
    if (meta.first != 200) {
      return absl::NotFoundError(absl::StrCat("GET ", ModelPath(), ": HTTP ",
                                              meta.first, " ", meta.second));
    }
    // The config is a Triton extension: without it, assume no batching.
    auto config =
        HttpGet(options_.host, options_.port, ModelPath() + "/config");
    std::string config_body =
        config.ok() && config->first == 200 ? config->second : "";
    return ParseModelInfoJson(meta.second, config_body);
  }

  absl::StatusOr<ServerStats> FetchStats() override {
    ASSIGN_OR_RETURN(
        auto r, HttpGet(options_.host, options_.port, ModelPath() + "/stats"));
    if (r.first != 200) {
      return absl::UnavailableError(
          absl::StrCat("GET ", ModelPath(), "/stats: HTTP ", r.first));
    }
    return ParseStatsJson(r.second);
  }

  absl::Status SetInputs(const std::vector<InputTensor>& inputs) override {
    auto req = std::make_shared<Request>(bhttp::verb::post,
                                         ModelPath() + "/infer", 11);
    req->set(bhttp::field::host, options_.host);
    req->keep_alive(true);
    if (options_.binary) {
      size_t header_length = 0;
      req->body() = BinaryInferBody(inputs, &header_length);
      req->set(bhttp::field::content_type, "application/octet-stream");
      req->set("Inference-Header-Content-Length",
               std::to_string(header_length));
    } else {
      req->body() = JsonInferBody(inputs);
      req->set(bhttp::field::content_type, "application/json");
    }
    req->prepare_payload();
    // Serialized once: every request is the same bytes, and the client's
    // CPU is taken from the server it measures.
    std::ostringstream wire;
    wire << *req;
    request_ = std::make_shared<const std::string>(wire.str());
    return absl::OkStatus();
  }

  void AsyncInfer(DoneCallback done) override {
    std::shared_ptr<Connection> conn;
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else if (static_cast<int>(connections_.size()) <
                 options_.max_connections) {
        conn = std::make_shared<Connection>(this, io_);
        connections_.push_back(conn);
      } else {
        backlog_.push_back(std::move(done));
        return;
      }
    }
    // Socket operations start on an io thread; the caller may be any thread.
    // dispatch: inline when already on the io thread (a closed loop's
    // next request), queued otherwise.
    asio::dispatch(io_,
                   [conn, req = request_, done = std::move(done)]() mutable {
                     conn->Start(std::move(req), std::move(done));
                   });
  }

  void CancelQueued() override {
    std::deque<DoneCallback> waiting;
    {
      absl::MutexLock lock(&mu_);
      waiting.swap(backlog_);
    }
    for (DoneCallback& done : waiting) {
      Outcome o;
      o.start_ns = o.end_ns = NowNs();
      o.error = "cancelled";
      done(std::move(o));
    }
  }

  // A connection finished a request: hand it the next waiting one or park it.
  void Release(std::shared_ptr<Connection> conn) {
    DoneCallback next;
    {
      absl::MutexLock lock(&mu_);
      if (backlog_.empty()) {
        idle_.push_back(std::move(conn));
        return;
      }
      next = std::move(backlog_.front());
      backlog_.pop_front();
    }
    conn->Start(request_, std::move(next));
  }

  const tcp::endpoint& endpoint() const { return endpoint_; }

 private:
  std::string ModelPath() const {
    std::string p = "/v2/models/" + options_.model;
    if (!options_.version.empty()) p += "/versions/" + options_.version;
    return p;
  }

  TargetOptions options_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      guard_{io_.get_executor()};
  std::vector<std::thread> threads_;
  tcp::endpoint endpoint_;
  std::shared_ptr<const std::string> request_;
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  std::deque<DoneCallback> backlog_ ABSL_GUARDED_BY(mu_);
};

void Connection::Start(std::shared_ptr<const std::string> request,
                       DoneCallback done) {
  request_ = std::move(request);
  done_ = std::move(done);
  outcome_ = Outcome();
  outcome_.start_ns = NowNs();  // replaced once connected
  reused_ = connected_;
  retried_ = false;
  if (connected_) {
    Write();
    return;
  }
  Connect();
}

void Connection::Connect() {
  socket_.async_connect(owner_->endpoint(),
                        [self = shared_from_this()](beast::error_code ec) {
                          if (ec) return self->Finish(ec, "connect");
                          self->socket_.set_option(tcp::no_delay(true));
                          self->connected_ = true;
                          self->Write();
                        });
}

void Connection::Write() {
  write_start_ = NowNs();
  // A request sent again on a fresh connection keeps its first start: the
  // failed attempt and the reconnect are part of its latency.
  if (!retried_) outcome_.start_ns = write_start_;
  asio::async_write(socket_, asio::buffer(*request_),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->outcome_.send_ns = NowNs() - self->write_start_;
                      if (ec) {
                        if (self->RetriedOnFreshConnection(ec)) return;
                        return self->Finish(ec, "write");
                      }
                      self->parser_.emplace();
                      self->parser_->body_limit(kNoBodyLimit);
                      bhttp::async_read_header(
                          self->socket_, self->buffer_, *self->parser_,
                          [self](beast::error_code ec, size_t) {
                            self->header_at_ = NowNs();
                            if (ec) {
                              if (self->RetriedOnFreshConnection(ec)) return;
                              return self->Finish(ec, "read");
                            }
                            bhttp::async_read(
                                self->socket_, self->buffer_, *self->parser_,
                                [self](beast::error_code ec, size_t) {
                                  self->outcome_.recv_ns =
                                      NowNs() - self->header_at_;
                                  self->Finish(ec, "read");
                                });
                          });
                    });
}

bool Connection::RetriedOnFreshConnection(const beast::error_code& ec) {
  // Only a connection used before, only once, and only when nothing of an
  // answer came back (Beast reports end_of_stream for a close before the
  // first byte of a message).
  if (!reused_ || retried_) return false;
  if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
      ec != asio::error::connection_reset && ec != asio::error::broken_pipe) {
    return false;
  }
  retried_ = true;
  beast::error_code ignored;
  socket_.close(ignored);
  socket_ = tcp::socket(socket_.get_executor());
  connected_ = false;
  buffer_.clear();
  Connect();
  return true;
}

void Connection::Finish(const beast::error_code& ec, std::string_view stage) {
  outcome_.end_ns = NowNs();
  bool reuse = !ec;
  if (ec) {
    outcome_.error = absl::StrCat(std::string(stage), ": ", ec.message());
  } else {
    const auto& res = parser_->get();
    if (res.result_int() != 200) {
      outcome_.error = absl::StrCat("HTTP ", res.result_int());
    }
    reuse = res.keep_alive();
  }
  if (!reuse) {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    connected_ = false;
    buffer_.clear();
  }
  DoneCallback done = std::move(done_);
  Outcome outcome = std::move(outcome_);
  owner_->Release(shared_from_this());
  done(std::move(outcome));
}

}  // namespace

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::unique_ptr<Transport>> CreateHttpTransport(
    const TargetOptions& options) {
  auto t = std::make_unique<HttpTransport>(options);
  RETURN_IF_ERROR(t->Init());
  return std::unique_ptr<Transport>(std::move(t));
}

absl::StatusOr<std::pair<int, std::string>> HttpGet(const std::string& host,
                                                    int port,
                                                    const std::string& target) {
  return HttpCall(host, port, "GET", target, "", 30);
}

absl::StatusOr<std::pair<int, std::string>> HttpCall(
    const std::string& host, int port, const std::string& method,
    const std::string& target, const std::string& body, int timeout_s) {
  asio::io_context io;
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec)
    return absl::UnavailableError(
        absl::StrCat("resolve ", host, ": ", ec.message()));
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(timeout_s));
  stream.connect(results, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("connect ", host, ":", port, ": ", ec.message()));
  }
  Request req(bhttp::string_to_verb(method), target, 11);
  req.set(bhttp::field::host, host);
  if (method != "GET") {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  bhttp::write(stream, req, ec);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kNoBodyLimit);
  if (!ec) bhttp::read(stream, buffer, parser, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(method, " ", target, ": ", ec.message()));
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return std::make_pair(static_cast<int>(parser.get().result_int()),
                        std::move(parser.get().body()));
}

}  // namespace serval::perf
