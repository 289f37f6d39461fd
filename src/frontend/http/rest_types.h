// Transport-neutral request and reply of the REST layer: what the Beast
// session hands to RestHandler and gets back. Keeping Beast out of these
// lets the whole protocol be unit-tested without sockets.
#ifndef SERVAL_FRONTEND_HTTP_REST_TYPES_H_
#define SERVAL_FRONTEND_HTTP_REST_TYPES_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "request/inference_request.h"

namespace serval::http {

struct RestRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path plus optional query
  std::string content_type;
  // Value of Inference-Header-Content-Length, when present.
  std::optional<size_t> inference_header_length;
  // Shared so that infer inputs can point into it without a copy.
  std::shared_ptr<const std::string> body;
  // Set when the client goes away; shared with the InferenceRequest.
  std::shared_ptr<CancellationFlag> cancellation;
};

struct RestReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called exactly once per request, possibly on a server worker thread.
using ReplyFn = std::function<void(RestReply)>;

// `{"error": message}` with the HTTP status of `status` (DESIGN section 5);
// 503 replies carry Retry-After.
RestReply ErrorReply(const absl::Status& status);
RestReply ErrorReply(int http_status, std::string_view message);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_REST_TYPES_H_
