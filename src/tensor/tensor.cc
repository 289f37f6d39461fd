#include "tensor/tensor.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval {

void TensorBuffer::Free::operator()(char* p) const { std::free(p); }

void TensorBuffer::Resize(size_t size) {
  if (size > capacity_) {
    // Aligned for SIMD kernels in backends; aligned_alloc wants a multiple.
    const size_t rounded = (size + 63) / 64 * 64;
    char* p = static_cast<char*>(std::aligned_alloc(64, rounded));
    if (p == nullptr) throw std::bad_alloc();
    if (size_ > 0) std::memcpy(p, data_.get(), size_);
    data_.reset(p);
    capacity_ = rounded;
  }
  size_ = size;
}

absl::StatusOr<int64_t> CountBytesElements(std::string_view serialized) {
  int64_t count = 0;
  size_t pos = 0;
  while (pos < serialized.size()) {
    if (serialized.size() - pos < 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          "BYTES element ", count, " has a truncated 4-byte length prefix"));
    }
    uint32_t len;
    std::memcpy(&len, serialized.data() + pos, 4);  // little-endian host
    pos += 4;
    if (len > serialized.size() - pos) {
      return absl::InvalidArgumentError(
          absl::StrCat("BYTES element ", count, " claims ", len,
                       " bytes but only ", serialized.size() - pos, " remain"));
    }
    pos += len;
    ++count;
  }
  return count;
}

void AppendBytesElement(std::string_view element, std::string* serialized) {
  const uint32_t len = static_cast<uint32_t>(element.size());
  char prefix[4];
  std::memcpy(prefix, &len, 4);
  serialized->append(prefix, 4);
  serialized->append(element);
}

absl::Status CheckTensorBytes(DataType type, std::span<const int64_t> shape,
                              std::string_view raw) {
  if (type == DataType::kBytes) {
    absl::StatusOr<int64_t> expected = ElementCount(shape);
    if (!expected.ok()) return expected.status();
    absl::StatusOr<int64_t> got = CountBytesElements(raw);
    if (!got.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed BYTES data: ", got.status().message()));
    }
    if (*got != *expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape), " needs ", *expected,
                       " BYTES elements, the data holds ", *got));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> expected = ByteSize(type, shape);
  if (!expected.ok()) return expected.status();
  if (static_cast<int64_t>(raw.size()) != *expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(ApiName(type)), " ", ShapeToString(shape),
                     " needs ", *expected, " bytes, got ", raw.size()));
  }
  return absl::OkStatus();
}

}  // namespace serval
