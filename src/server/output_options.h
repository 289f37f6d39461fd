// Applies what a request asked of its outputs once they are computed
// (Triton's output parameters): classification replaces an output by its
// top k (classification.h); an output placed in shared memory is copied
// into the request's region and stays in the response as name, datatype and
// shape only. Stateless; thread-safe.
#ifndef SERVAL_SERVER_OUTPUT_OPTIONS_H_
#define SERVAL_SERVER_OUTPUT_OPTIONS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "request/inference_request.h"

namespace serval {

// `labels_of` gives the classification labels of an output by name.
// INVALID_ARGUMENT when an output does not fit the shared memory given for
// it (Triton's text) or for a classification of a non-numeric output.
absl::Status ApplyOutputOptions(
    const std::vector<OutputOptions>& options, bool batching,
    absl::FunctionRef<const std::vector<std::string>&(std::string_view)>
        labels_of,
    std::vector<OutputTensor>* outputs);

}  // namespace serval

#endif  // SERVAL_SERVER_OUTPUT_OPTIONS_H_
