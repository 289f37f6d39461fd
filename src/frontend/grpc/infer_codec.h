// Translates between the gRPC inference messages and the server core's
// InferenceRequest / InferenceResponse. Decoding copies no raw tensor
// bytes: input views point into the request message, which the caller
// keeps alive until the request is answered. Stateless and thread-safe.
#ifndef SERVAL_FRONTEND_GRPC_INFER_CODEC_H_
#define SERVAL_FRONTEND_GRPC_INFER_CODEC_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/inference.pb.h"
#include "request/inference_request.h"
#include "server/server_api.h"

namespace serval {

// "" -> -1 (latest ready version); otherwise a non-negative integer.
absl::StatusOr<int64_t> ParseModelVersion(const std::string& version);

// Decodes `message`. Raw input views point into `message`; typed contents
// are packed into buffers the request owns (owned_data). `deadline` (the
// gRPC call's; time_point::max() for none) caps the request's timeout; a
// deadline already past is DEADLINE_EXCEEDED.
// Tensors in shared memory are views into regions `server` maps (refused
// without one).
absl::StatusOr<InferenceRequest> DecodeInferRequest(
    const inference::ModelInferRequest& message,
    std::chrono::system_clock::time_point deadline =
        std::chrono::system_clock::time_point::max(),
    const ServerApi* server = nullptr);

// Fills `message` from a successful `response`; every output travels in
// raw_output_contents, as Triton does, so existing clients decode it.
void EncodeInferResponse(const InferenceResponse& response,
                         inference::ModelInferResponse* message);

// Identification of a request that failed before or during inference, so
// a stream client can match the error to its request.
void EncodeFailedRequest(const inference::ModelInferRequest& request,
                         inference::ModelInferResponse* message);

// The error text sent to a client: the status message, followed by the
// request id when there is one and the message does not already name it.
std::string ErrorText(const absl::Status& status, const std::string& id);

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_INFER_CODEC_H_
