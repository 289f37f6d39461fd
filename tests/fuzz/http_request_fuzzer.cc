// Untrusted bytes as they arrive on an HTTP connection: Beast's request
// parser with the limits the server sets, then the REST handler (routing,
// JSON and binary infer decoding, the binary split, repository load bodies,
// every other endpoint's body) against a fake server that echoes inputs
// back, so the response encoder runs on whatever was decoded.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "boost/beast/http.hpp"
#include "common/executor.h"
#include "frontend/http/fake_server_api.h"
#include "frontend/http/rest_handler.h"
#include "frontend/http/rest_types.h"

namespace {

namespace bhttp = boost::beast::http;
using serval::http::RestExchange;
using serval::http::RestReply;

struct Exchange final : RestExchange {
  void Reply(RestReply r) override { reply = std::move(r); }
  void OnInferComplete(serval::InferenceResponse response) override {
    Reply(serval::http::InferReply(std::move(response), encoding));
  }
  std::optional<RestReply> reply;
};

std::optional<size_t> HeaderLength(
    const bhttp::request<bhttp::string_body>& r) {
  auto it = r.find("Inference-Header-Content-Length");
  if (it == r.end()) return std::nullopt;
  size_t n = 0;
  for (char c : it->value()) {
    if (c < '0' || c > '9' || n > (size_t{1} << 40)) return std::nullopt;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static serval::http::FakeServerApi* api = new serval::http::FakeServerApi();
  static serval::InlineExecutor* blocking = new serval::InlineExecutor();
  static serval::http::RestHandler* handler =
      new serval::http::RestHandler(api, blocking);

  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.header_limit(64 * 1024);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;

  const auto& req = parser.get();
  const std::string method(req.method_string());
  const std::string target(req.target());
  const std::string content_type(req[bhttp::field::content_type]);
  serval::CancellationFlag cancelled;
  serval::http::RestRequest request;
  request.method = method;
  request.target = target;
  request.content_type = content_type;
  request.inference_header_length = HeaderLength(req);
  request.body = req.body();
  request.cancellation = &cancelled;
  Exchange exchange;
  handler->Handle(request, &exchange);
  // Every request is answered, at once: the fake completes inline.
  if (!exchange.reply) __builtin_trap();
  return 0;
}
