// The classification extension: an output answered as its top k values per
// batch item instead of the tensor, as BYTES elements "value:index" or
// "value:index:label" (labels from the output's label_filename). The format
// is Triton's: the value is printed as std::to_string prints it (floats with
// six decimals), the index is the position within the item, ties keep the
// lower index first, and k is capped at the item's element count.
// Stateless; thread-safe.
#ifndef SERVAL_SERVER_CLASSIFICATION_H_
#define SERVAL_SERVER_CLASSIFICATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "request/inference_request.h"

namespace serval {

// `batching`: the output's first dimension is the batch. INVALID_ARGUMENT
// for outputs that are not numeric (BOOL, FP16, BF16, BYTES).
absl::StatusOr<OutputTensor> Classify(const OutputTensor& output, uint32_t k,
                                      bool batching,
                                      const std::vector<std::string>& labels);

}  // namespace serval

#endif  // SERVAL_SERVER_CLASSIFICATION_H_
