// Runs the real HttpServer on a loopback port against FakeServerApi and
// talks to it with a Beast client: connection handling, limits, timeouts
// and a client that leaves while its request is in flight.
#include "frontend/http/http_server.h"

#include <chrono>
#include <string>
#include <thread>

#include "common/executor.h"
#include "frontend/http/asio.h"
#include "frontend/http/fake_server_api.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval::http {
namespace {

using ::testing::HasSubstr;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    auto server = HttpServer::Start(options, &api_, &blocking_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  tcp::socket Connect() {
    tcp::socket socket(io_);
    socket.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return socket;
  }

  bhttp::response<bhttp::string_body> RoundTrip(
      tcp::socket& socket, bhttp::request<bhttp::string_body> req) {
    req.prepare_payload();
    bhttp::write(socket, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    beast::error_code ec;
    bhttp::read(socket, buffer, res, ec);
    EXPECT_FALSE(ec) << ec.message();
    return res;
  }

  static bhttp::request<bhttp::string_body> Get(const std::string& target) {
    bhttp::request<bhttp::string_body> req(bhttp::verb::get, target, 11);
    req.set(bhttp::field::host, "localhost");
    return req;
  }

  static bhttp::request<bhttp::string_body> Post(const std::string& target,
                                                 std::string body) {
    bhttp::request<bhttp::string_body> req(bhttp::verb::post, target, 11);
    req.set(bhttp::field::host, "localhost");
    req.body() = std::move(body);
    return req;
  }

  template <typename Pred>
  static bool WaitFor(Pred pred) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }

  FakeServerApi api_;
  ThreadPool blocking_{1};
  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
};

const char kInfer[] =
    R"({"id":"k","inputs":[{"name":"a","datatype":"INT32","shape":[2],"data":[1,2]}]})";

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  tcp::socket socket = Connect();
  for (int i = 0; i < 3; ++i) {
    auto res = RoundTrip(socket, Get("/v2/health/live"));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_TRUE(res.keep_alive());
    res = RoundTrip(socket, Post("/v2/models/m/infer", kInfer));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_THAT(res.body(), HasSubstr(R"("data":[1,2])"));
    EXPECT_EQ(res[bhttp::field::server], "serval");
  }
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  HttpOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  tcp::socket socket = Connect();
  auto res =
      RoundTrip(socket, Post("/v2/models/m/infer", std::string(4096, 'x')));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_THAT(res.body(), HasSubstr("1024-byte limit"));
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(api_.infer_calls, 0);
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  HttpOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);
  tcp::socket socket = Connect();
  auto req = Get("/v2/health/live");
  req.set("X-Pad", std::string(2048, 'p'));
  auto res = RoundTrip(socket, req);
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_THAT(res.body(), HasSubstr("header"));
}

TEST_F(HttpServerTest, ExpectContinueIsHonoured) {
  StartServer();
  tcp::socket socket = Connect();
  auto req = Post("/v2/models/m/infer", kInfer);
  req.set(bhttp::field::expect, "100-continue");
  req.prepare_payload();
  bhttp::request_serializer<bhttp::string_body> sr(req);
  bhttp::write_header(socket, sr);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::empty_body> cont;
  bhttp::read(socket, buffer, cont);
  EXPECT_EQ(cont.result_int(), 100);
  bhttp::write(socket, sr);
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  StartServer();
  tcp::socket socket = Connect();
  asio::write(socket, asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_THAT(res.body(), HasSubstr("malformed HTTP request"));
}

TEST_F(HttpServerTest, IdleConnectionTimesOut) {
  HttpOptions options;
  options.read_timeout_s = 1;
  StartServer(options);
  tcp::socket socket = Connect();
  const auto start = std::chrono::steady_clock::now();
  char byte;
  beast::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);  // blocks until closed
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(HttpServerTest, ClientLeavingMidRequestCancelsItAndLateReplyIsSafe) {
  StartServer();
  api_.mode = FakeServerApi::Mode::kHold;
  {
    tcp::socket socket = Connect();
    auto req = Post("/v2/models/m/infer", kInfer);
    req.prepare_payload();
    bhttp::write(socket, req);
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(api_.mu);
      return api_.infer_calls == 1;
    }));
  }  // the client goes away without a reply
  EXPECT_TRUE(WaitFor([&] { return api_.HeldIsCancelled(); }));
  EXPECT_TRUE(api_.CompleteHeld());  // the reply is dropped, no crash
  api_.mode = FakeServerApi::Mode::kEcho;
  tcp::socket socket = Connect();
  EXPECT_EQ(RoundTrip(socket, Get("/v2/health/ready")).result_int(), 200);
}

TEST_F(HttpServerTest, StopWithARequestInFlightIsSafeAndIdempotent) {
  StartServer();
  api_.mode = FakeServerApi::Mode::kHold;
  tcp::socket socket = Connect();
  tcp::socket idle = Connect();
  auto req = Post("/v2/models/m/infer", kInfer);
  req.prepare_payload();
  bhttp::write(socket, req);
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(api_.mu);
    return api_.infer_calls == 1;
  }));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  server_->Stop();
  EXPECT_TRUE(api_.HeldIsCancelled());
  server_.reset();
  EXPECT_TRUE(api_.CompleteHeld());  // after the server is gone
  char byte;
  beast::error_code ec;
  idle.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec);  // the idle connection was closed by Stop
}

TEST_F(HttpServerTest, PortInUseIsUnavailable) {
  StartServer();
  HttpOptions options;
  options.address = "127.0.0.1";
  options.port = server_->port();
  auto second = HttpServer::Start(options, &api_, &blocking_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace serval::http
