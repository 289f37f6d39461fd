// Tensor shapes: element counts with overflow checks, matching against
// declared dims where -1 is a wildcard, and printing for error messages.
#ifndef SERVAL_TENSOR_SHAPE_H_
#define SERVAL_TENSOR_SHAPE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tensor/datatype.h"

namespace serval {

using Shape = std::vector<int64_t>;

// Product of the dims. Fails on a negative dim or when the count (or, with
// a datatype, the byte size) would not fit in int64.
absl::StatusOr<int64_t> ElementCount(std::span<const int64_t> shape);
absl::StatusOr<int64_t> ByteSize(DataType type, std::span<const int64_t> shape);

// True when `shape` has the rank of `dims` and equals it wherever dims is
// not -1.
bool ShapeMatches(std::span<const int64_t> dims,
                  std::span<const int64_t> shape);

// "[1,3,224,224]"; past 16 dims "[1,1,...,1,... (100000 dims)]", as it
// is meant for messages.
std::string ShapeToString(std::span<const int64_t> shape);

}  // namespace serval

#endif  // SERVAL_TENSOR_SHAPE_H_
