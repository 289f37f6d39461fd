// A ModelInferRequest message off the wire: protobuf parsing, then the
// gRPC frontend's decoding into an InferenceRequest (typed contents packed,
// raw contents viewed, parameters, outputs), then the server's validation
// against a model.
#include <cstddef>
#include <cstdint>

#include "frontend/grpc/infer_codec.h"
#include "fuzz_spec.h"
#include "proto/inference.pb.h"
#include "server/request_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)serval::ParseModelVersion(message.model_version());
  absl::StatusOr<serval::InferenceRequest> request =
      serval::DecodeInferRequest(message);
  if (!request.ok()) {
    (void)serval::ErrorText(request.status(), message.id());
    return 0;
  }
  (void)serval::ValidateRequest("m", serval::fuzz::FuzzSpec(), *request);
  return 0;
}
