// Decodes the body of a KServe v2 REST infer request (JSON, the binary
// tensor extension, or the header-less raw binary form) into an
// InferenceRequest. Binary tensors become views into the body, which the
// caller keeps alive until the request is answered; JSON data is converted
// once into buffers the request owns (owned_data).
// Checks the request against itself (syntax, shapes vs data, byte sizes);
// checks against the model config are the Server's. Stateless; thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_INFER_DECODER_H_
#define SERVAL_FRONTEND_HTTP_INFER_DECODER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "config/model_spec.h"
#include "request/inference_request.h"
#include "server/server_api.h"
#include "tensor/tensor.h"

namespace serval::http {

// How the client wants each output encoded in the response.
struct OutputEncoding {
  // Request-level parameters.binary_data_output.
  bool all_binary = false;
  // Per-output parameters.binary_data; overrides all_binary.
  absl::flat_hash_map<std::string, bool> binary;

  bool IsBinary(std::string_view name) const;
};

struct DecodedInfer {
  InferenceRequest request;
  OutputEncoding encoding;
};

// `header_length` is the Inference-Header-Content-Length value: the JSON
// is body[0, header_length) and binary tensors follow in input order.
// Without it the whole body is JSON.
// Tensors naming a shared-memory region (parameters shared_memory_region,
// _offset, _byte_size) are views into it, pinned by the request, when
// `shared_memory` (which maps regions) is given; refused otherwise.
absl::StatusOr<DecodedInfer> DecodeInferRequest(
    std::string_view model, int64_t version, std::string_view body,
    std::optional<size_t> header_length,
    const ServerApi* shared_memory = nullptr);

// The raw binary request (Inference-Header-Content-Length: 0): the whole
// body is the data of the model's single input, as Triton defines it. The
// shape is the declared one with a batch dim of 1 when the model batches,
// and at most one variable dim, deduced from the byte size. For BYTES the
// input must be declared [1] and the body is that one element's bytes.
// Every output is answered as binary.
absl::StatusOr<DecodedInfer> DecodeRawInferRequest(std::string_view model,
                                                   const ModelSpec& spec,
                                                   std::string_view body);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_INFER_DECODER_H_
