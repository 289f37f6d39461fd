// Encodes an InferenceResponse as a KServe v2 REST response body: JSON
// outputs, or the binary tensor extension (JSON header, then raw output
// bytes in output order) for outputs the client asked to get as binary.
// Binary outputs are moved out of the response, not copied: the connection
// writes them after the JSON in one gather write. Stateless; thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_INFER_ENCODER_H_
#define SERVAL_FRONTEND_HTTP_INFER_ENCODER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/http/infer_decoder.h"
#include "request/inference_request.h"

namespace serval::http {

struct EncodedInfer {
  std::string json;
  // The bytes of the binary outputs, in output order, to send after `json`.
  std::vector<TensorBuffer> binary;
  // Set when binary outputs follow the JSON: the value of the response's
  // Inference-Header-Content-Length (json.size()).
  std::optional<size_t> json_length;
};

// Fails (INVALID_ARGUMENT) for an FP16/BF16 output asked for as JSON and
// (INTERNAL) when an output's bytes do not match its shape.
absl::StatusOr<EncodedInfer> EncodeInferResponse(
    InferenceResponse response, const OutputEncoding& encoding);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_INFER_ENCODER_H_
