// Converts the `data` member of a JSON input tensor (flat or nested arrays,
// row-major) into the tensor's binary form. Thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_JSON_TENSOR_DATA_H_
#define SERVAL_FRONTEND_HTTP_JSON_TENSOR_DATA_H_

#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "tensor/datatype.h"
#include "tensor/tensor.h"

namespace serval::http {

// `expected_count` is the element count of the declared shape; a different
// number of values is INVALID_ARGUMENT. Messages do not name the tensor
// (callers add that). BYTES values are JSON strings and come out serialized
// as (4-byte length, bytes)*. FP16/BF16 are refused: JSON cannot carry them
// exactly, they travel as binary.
absl::StatusOr<TensorBuffer> JsonDataToBuffer(simdjson::dom::element data,
                                              DataType type,
                                              int64_t expected_count);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_JSON_TENSOR_DATA_H_
