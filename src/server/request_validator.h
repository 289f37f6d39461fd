// Checks an inference request against the model's declared inputs and
// outputs (names, datatypes, shapes, byte sizes, batch dimension) and puts
// its inputs in model order. Errors are INVALID_ARGUMENT with messages that
// name the model, the tensor, and what was expected versus received.
// Stateless; thread-safe.
#ifndef SERVAL_SERVER_REQUEST_VALIDATOR_H_
#define SERVAL_SERVER_REQUEST_VALIDATOR_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/model_spec.h"
#include "request/inference_request.h"

namespace serval {

struct ValidatedRequest {
  std::vector<TensorView> inputs;  // model input order
  int64_t batch_size = 1;          // items this request adds to a batch
};

absl::StatusOr<ValidatedRequest> ValidateRequest(std::string_view model,
                                                 const ModelSpec& io,
                                                 const InferenceRequest& request);

}  // namespace serval

#endif  // SERVAL_SERVER_REQUEST_VALIDATOR_H_
