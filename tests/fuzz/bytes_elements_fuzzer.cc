// A serialized BYTES tensor ((4-byte little-endian length, bytes)*) as a
// client sends it in the binary extension or raw gRPC contents: counting
// its elements and checking it against a shape must bound every length
// prefix by the buffer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/tensor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte is the element count the shape declares.
  const int64_t declared = data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  absl::StatusOr<int64_t> count = serval::CountBytesElements(bytes);
  const std::vector<int64_t> shape = {declared};
  const absl::Status checked =
      serval::CheckTensorBytes(serval::DataType::kBytes, shape, bytes);
  // The two must agree: a buffer is well formed for a shape exactly when
  // it holds that many elements.
  if (checked.ok() && (!count.ok() || *count != declared)) __builtin_trap();
  if (count.ok()) {
    // Re-serializing what was counted gives the same bytes back.
    std::string again;
    size_t at = 0;
    for (int64_t i = 0; i < *count; ++i) {
      uint32_t n = 0;
      for (int b = 0; b < 4; ++b) {
        n |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + b]))
             << (8 * b);
      }
      serval::AppendBytesElement(bytes.substr(at + 4, n), &again);
      at += 4 + n;
    }
    if (again != bytes) __builtin_trap();
  }
  return 0;
}
