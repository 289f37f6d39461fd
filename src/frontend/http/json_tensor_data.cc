#include "frontend/http/json_tensor_data.h"

#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval::http {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a floating-point number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

// Walks nested arrays in row-major order and hands each leaf to `leaf`,
// counting leaves; stops at the first error.
class LeafWalker {
 public:
  LeafWalker(DataType type, int64_t expected)
      : type_(type), expected_(expected) {}

  static constexpr int kMaxNesting = 100;

  template <typename LeafFn>
  absl::Status Walk(element e, LeafFn& leaf, int depth = 0) {
    if (e.type() == element_type::ARRAY) {
      // Triton's limit and text (simdjson's own limit is deeper); it also
      // bounds the stack of this recursion.
      if (depth >= kMaxNesting) {
        return absl::InvalidArgumentError(absl::StrCat(
            "JSON nesting depth exceeds maximum allowed limit (100)"));
      }
      const simdjson::dom::array children = e.get_array().value_unsafe();
      for (element child : children) {
        absl::Status s = Walk(child, leaf, depth + 1);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (count_ >= expected_) return CountError(count_ + 1);
    absl::Status s = leaf(e, count_);
    ++count_;
    return s;
  }

  absl::Status CheckCount() const {
    return count_ == expected_ ? absl::OkStatus() : CountError(count_);
  }

  absl::Status TypeError(element e, int64_t index) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "data element ", index, " is ", ToAbsl(JsonTypeName(e.type())),
        ", expected a ", ToAbsl(ApiName(type_)), " value"));
  }

  absl::Status RangeError(int64_t index, std::string_view value) const {
    return absl::InvalidArgumentError(
        absl::StrCat("data element ", index, " value ", ToAbsl(value),
                     " is out of range for ", ToAbsl(ApiName(type_))));
  }

 private:
  absl::Status CountError(int64_t got) const {
    return absl::InvalidArgumentError(
        absl::StrCat("shape needs ", expected_, " elements but data has ",
                     got == expected_ + 1 ? "more" : absl::StrCat(got)));
  }

  DataType type_;
  int64_t expected_;
  int64_t count_ = 0;
};

template <typename T>
absl::Status ConvertInteger(element e, int64_t index, const LeafWalker& w,
                            T* out) {
  if (e.type() == element_type::INT64) {
    const int64_t v = e.get_int64().value_unsafe();
    if constexpr (std::is_signed_v<T>) {
      if (v < std::numeric_limits<T>::min() ||
          v > std::numeric_limits<T>::max()) {
        return w.RangeError(index, std::to_string(v));
      }
    } else {
      if (v < 0 || static_cast<uint64_t>(v) > std::numeric_limits<T>::max()) {
        return w.RangeError(index, std::to_string(v));
      }
    }
    *out = static_cast<T>(v);
    return absl::OkStatus();
  }
  if (e.type() == element_type::UINT64) {
    // simdjson only uses UINT64 for values above INT64_MAX.
    const uint64_t v = e.get_uint64().value_unsafe();
    if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return w.RangeError(index, std::to_string(v));
    }
    *out = static_cast<T>(v);
    return absl::OkStatus();
  }
  return w.TypeError(e, index);
}

template <typename T>
absl::Status ConvertFloat(element e, int64_t index, const LeafWalker& w,
                          T* out) {
  double v;
  switch (e.type()) {
    case element_type::DOUBLE:
      v = e.get_double().value_unsafe();
      break;
    case element_type::INT64:
      v = static_cast<double>(e.get_int64().value_unsafe());
      break;
    case element_type::UINT64:
      v = static_cast<double>(e.get_uint64().value_unsafe());
      break;
    default:
      return w.TypeError(e, index);
  }
  // A double beyond float's range has no float value (the conversion is
  // undefined, in practice infinity): refused like an integer out of range.
  if constexpr (std::is_same_v<T, float>) {
    if (v > std::numeric_limits<float>::max() ||
        v < std::numeric_limits<float>::lowest()) {
      return w.RangeError(index, absl::StrCat(v));
    }
  }
  *out = static_cast<T>(v);
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<TensorBuffer> FillFixed(element data, DataType type,
                                       int64_t expected) {
  TensorBuffer buffer(static_cast<size_t>(expected) * sizeof(T));
  T* out = reinterpret_cast<T*>(buffer.data());
  LeafWalker walker(type, expected);
  auto leaf = [&](element e, int64_t i) -> absl::Status {
    if constexpr (std::is_same_v<T, bool>) {
      if (e.type() != element_type::BOOL) return walker.TypeError(e, i);
      out[i] = e.get_bool().value_unsafe();
      return absl::OkStatus();
    } else if constexpr (std::is_floating_point_v<T>) {
      return ConvertFloat<T>(e, i, walker, &out[i]);
    } else {
      return ConvertInteger<T>(e, i, walker, &out[i]);
    }
  };
  absl::Status s = walker.Walk(data, leaf);
  if (s.ok()) s = walker.CheckCount();
  if (!s.ok()) return s;
  return buffer;
}

absl::StatusOr<TensorBuffer> FillBytes(element data, int64_t expected) {
  std::string serialized;
  LeafWalker walker(DataType::kBytes, expected);
  auto leaf = [&](element e, int64_t i) -> absl::Status {
    if (e.type() != element_type::STRING) return walker.TypeError(e, i);
    AppendBytesElement(e.get_string().value_unsafe(), &serialized);
    return absl::OkStatus();
  };
  absl::Status s = walker.Walk(data, leaf);
  if (s.ok()) s = walker.CheckCount();
  if (!s.ok()) return s;
  TensorBuffer buffer(serialized.size());
  if (!serialized.empty()) {
    std::memcpy(buffer.data(), serialized.data(), serialized.size());
  }
  return buffer;
}

}  // namespace

absl::StatusOr<TensorBuffer> JsonDataToBuffer(element data, DataType type,
                                              int64_t expected_count) {
  switch (type) {
    case DataType::kBool:
      return FillFixed<bool>(data, type, expected_count);
    case DataType::kUint8:
      return FillFixed<uint8_t>(data, type, expected_count);
    case DataType::kUint16:
      return FillFixed<uint16_t>(data, type, expected_count);
    case DataType::kUint32:
      return FillFixed<uint32_t>(data, type, expected_count);
    case DataType::kUint64:
      return FillFixed<uint64_t>(data, type, expected_count);
    case DataType::kInt8:
      return FillFixed<int8_t>(data, type, expected_count);
    case DataType::kInt16:
      return FillFixed<int16_t>(data, type, expected_count);
    case DataType::kInt32:
      return FillFixed<int32_t>(data, type, expected_count);
    case DataType::kInt64:
      return FillFixed<int64_t>(data, type, expected_count);
    case DataType::kFp32:
      return FillFixed<float>(data, type, expected_count);
    case DataType::kFp64:
      return FillFixed<double>(data, type, expected_count);
    case DataType::kBytes:
      return FillBytes(data, expected_count);
    case DataType::kFp16:
    case DataType::kBf16:
      return absl::InvalidArgumentError(absl::StrCat(
          "datatype ", ToAbsl(ApiName(type)),
          " cannot be sent as JSON data; send it with the binary tensor "
          "extension (parameters.binary_data_size)"));
    case DataType::kInvalid:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid datatype"));
}

}  // namespace serval::http
