// Tensors as the server core sees them. A TensorView borrows its bytes (for
// example from an HTTP request body); a TensorBuffer owns them. BYTES
// tensors are serialized as (4-byte little-endian length, bytes)* in both.
#ifndef SERVAL_TENSOR_TENSOR_H_
#define SERVAL_TENSOR_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tensor/datatype.h"
#include "tensor/shape.h"

namespace serval {

// Borrowed bytes of one tensor; the owner must outlive the view.
struct TensorView {
  std::string name;
  DataType datatype = DataType::kInvalid;
  Shape shape;
  const char* data = nullptr;
  size_t byte_size = 0;
};

// Owned, contiguous, 64-byte aligned bytes; reusable (Resize keeps the
// allocation when it is large enough). Not thread-safe.
class TensorBuffer {
 public:
  TensorBuffer() = default;
  explicit TensorBuffer(size_t size) { Resize(size); }
  TensorBuffer(TensorBuffer&&) noexcept = default;
  TensorBuffer& operator=(TensorBuffer&&) noexcept = default;

  void Resize(size_t size);
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, Free> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Counts the elements of a serialized BYTES tensor, failing when a length
// prefix runs past the end of the buffer.
absl::StatusOr<int64_t> CountBytesElements(std::string_view serialized);

// Appends one element (length prefix + bytes) to a serialized BYTES buffer.
void AppendBytesElement(std::string_view element, std::string* serialized);

// Checks that `bytes` hold a tensor of `type` and `shape`: exactly
// ByteSize(type, shape) for fixed-size types, well-formed length-prefixed
// elements of the right count for BYTES. Messages do not name the tensor.
absl::Status CheckTensorBytes(DataType type, std::span<const int64_t> shape,
                              std::string_view bytes);

}  // namespace serval

#endif  // SERVAL_TENSOR_TENSOR_H_
