#include "tensor/shape.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace serval {

absl::StatusOr<int64_t> ElementCount(std::span<const int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape ", ShapeToString(shape), " has a negative dimension"));
    }
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape),
                       " causes total element count to exceed maximum size of ",
                       std::numeric_limits<int64_t>::max()));
    }
    count *= d;
  }
  return count;
}

absl::StatusOr<int64_t> ByteSize(DataType type,
                                 std::span<const int64_t> shape) {
  ASSIGN_OR_RETURN(auto count, ElementCount(shape));
  const int64_t size = static_cast<int64_t>(ElementSize(type));
  if (size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "datatype ", ToAbsl(ApiName(type)), " has no fixed element size"));
  }
  if (count > std::numeric_limits<int64_t>::max() / size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "byte size overflow for input: shape ", ShapeToString(shape), " of ",
        ToAbsl(ApiName(type)), " is too large in bytes"));
  }
  return count * size;
}

bool ShapeMatches(std::span<const int64_t> dims,
                  std::span<const int64_t> shape) {
  if (dims.size() != shape.size()) return false;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] != -1 && dims[i] != shape[i]) return false;
  }
  return true;
}

std::string ShapeToString(std::span<const int64_t> shape) {
  // Shapes come from clients and end up in error messages: a request with
  // 100,000 dims must not get a 200 KB error back.
  constexpr size_t kShown = 16;
  if (shape.size() <= kShown) {
    return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
  }
  return absl::StrCat("[", absl::StrJoin(shape.first(kShown), ","), ",... (",
                      shape.size(), " dims)]");
}

}  // namespace serval
