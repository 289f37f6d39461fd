// Checks an inference request against the model's declared inputs and
// outputs (names, datatypes, shapes, byte sizes, batch dimension) and puts
// its inputs in model order, in place. Errors are INVALID_ARGUMENT with
// messages that name the model, the tensor, and what was expected versus
// received; nothing is formatted unless a check fails. Stateless;
// thread-safe.
#ifndef SERVAL_SERVER_REQUEST_VALIDATOR_H_
#define SERVAL_SERVER_REQUEST_VALIDATOR_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "config/model_spec.h"
#include "request/inference_request.h"

namespace serval {

// Returns the items the request adds to a batch (its batch dimension, or 1
// for a model that does not batch).
absl::StatusOr<int64_t> ValidateRequest(std::string_view model,
                                        const ModelSpec& spec,
                                        InferenceRequest& request);

}  // namespace serval

#endif  // SERVAL_SERVER_REQUEST_VALIDATOR_H_
