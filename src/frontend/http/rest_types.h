// Transport-neutral request and reply of the REST layer: what the Beast
// session hands to RestHandler and gets back. Keeping Beast out of these
// lets the whole protocol be unit-tested without sockets.
#ifndef SERVAL_FRONTEND_HTTP_REST_TYPES_H_
#define SERVAL_FRONTEND_HTTP_REST_TYPES_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "frontend/http/infer_decoder.h"
#include "request/inference_request.h"
#include "security/access_policy.h"
#include "tensor/tensor.h"

namespace serval::http {

// Views into the connection's copy of the request: method, target and
// content_type are valid while RestHandler::Handle runs, `body` until the
// exchange is answered.
struct RestRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path plus optional query
  std::string_view content_type;
  // Value of Inference-Header-Content-Length, when present.
  std::optional<size_t> inference_header_length;
  std::string_view body;
  // Set when the client goes away; owned by the connection.
  const CancellationFlag* cancellation = nullptr;
  // The request's headers, for access control; valid while Handle runs.
  // Null: no headers.
  const AccessPolicy::HeaderLookup* headers = nullptr;
  // The connection already had CheckAccessFor accept the header (before
  // reading the body): Handle does not check the credentials again.
  bool access_checked = false;
};

struct RestReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Sent after `body` without being copied into it: the binary outputs of
  // an inference.
  std::vector<TensorBuffer> tail;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One request/reply exchange on a connection, as RestHandler sees it. The
// connection answers with Reply; for an inference it is also the
// completion the server answers, and encodes the outputs as `encoding`
// (set by the handler before it calls Infer) says.
class RestExchange : public InferCompletion {
 public:
  // Sends the reply, exactly once per exchange. Thread-safe: from another
  // thread the reply is handed to the connection's executor.
  virtual void Reply(RestReply reply) = 0;

  OutputEncoding encoding;

 protected:
  ~RestExchange() = default;
};

// `{"error": message}` with the HTTP status of `status` (the code table of
// src/common/status_map.h); 503 replies carry Retry-After.
RestReply ErrorReply(const absl::Status& status);
RestReply ErrorReply(int http_status, std::string_view message);

// The reply to a finished inference: its outputs encoded (JSON and binary
// tensors), or its error with the request id.
RestReply InferReply(InferenceResponse response,
                     const OutputEncoding& encoding);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_REST_TYPES_H_
