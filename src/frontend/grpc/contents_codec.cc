#include "frontend/grpc/contents_codec.h"

#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "tensor/shape.h"

namespace serval {
namespace {

using inference::InferTensorContents;

// Every typed field with its name and element count, in proto order.
struct FieldCount {
  std::string_view name;
  int size;
};

std::vector<FieldCount> FieldCounts(const InferTensorContents& c) {
  return {{"bool_contents", c.bool_contents_size()},
          {"int_contents", c.int_contents_size()},
          {"int64_contents", c.int64_contents_size()},
          {"uint_contents", c.uint_contents_size()},
          {"uint64_contents", c.uint64_contents_size()},
          {"fp32_contents", c.fp32_contents_size()},
          {"fp64_contents", c.fp64_contents_size()},
          {"bytes_contents", c.bytes_contents_size()}};
}

// Converts each value to Dst, refusing values Dst cannot represent (only
// integer narrowing can fail; bool and floating types convert exactly).
template <typename Dst, typename Src>
absl::StatusOr<TensorBuffer> PackNumbers(
    DataType type, const google::protobuf::RepeatedField<Src>& values) {
  TensorBuffer out(static_cast<size_t>(values.size()) * sizeof(Dst));
  char* dst = out.data();
  for (int i = 0; i < values.size(); ++i) {
    const Src v = values.Get(i);
    if constexpr (std::is_integral_v<Dst> && !std::is_same_v<Dst, bool> &&
                  sizeof(Dst) < sizeof(Src)) {
      if (std::cmp_less(v, std::numeric_limits<Dst>::min()) ||
          std::cmp_greater(v, std::numeric_limits<Dst>::max())) {
        return absl::InvalidArgumentError(
            absl::StrCat("value ", v, " at index ", i, " does not fit ",
                         ToAbsl(ApiName(type))));
      }
    }
    const Dst d = static_cast<Dst>(v);
    std::memcpy(dst + static_cast<size_t>(i) * sizeof(Dst), &d, sizeof(Dst));
  }
  return out;
}

TensorBuffer PackBytes(
    const google::protobuf::RepeatedPtrField<std::string>& values) {
  size_t total = 0;
  for (const std::string& v : values) total += 4 + v.size();
  TensorBuffer out(total);
  char* dst = out.data();
  for (const std::string& v : values) {
    const uint32_t len = static_cast<uint32_t>(v.size());
    std::memcpy(dst, &len, 4);
    if (!v.empty()) std::memcpy(dst + 4, v.data(), v.size());
    dst += 4 + v.size();
  }
  return out;
}

absl::StatusOr<TensorBuffer> PackField(DataType type,
                                       const InferTensorContents& c) {
  switch (type) {
    case DataType::kBool:
      return PackNumbers<uint8_t>(type, c.bool_contents());
    case DataType::kInt8:
      return PackNumbers<int8_t>(type, c.int_contents());
    case DataType::kInt16:
      return PackNumbers<int16_t>(type, c.int_contents());
    case DataType::kInt32:
      return PackNumbers<int32_t>(type, c.int_contents());
    case DataType::kInt64:
      return PackNumbers<int64_t>(type, c.int64_contents());
    case DataType::kUint8:
      return PackNumbers<uint8_t>(type, c.uint_contents());
    case DataType::kUint16:
      return PackNumbers<uint16_t>(type, c.uint_contents());
    case DataType::kUint32:
      return PackNumbers<uint32_t>(type, c.uint_contents());
    case DataType::kUint64:
      return PackNumbers<uint64_t>(type, c.uint64_contents());
    case DataType::kFp32:
      return PackNumbers<float>(type, c.fp32_contents());
    case DataType::kFp64:
      return PackNumbers<double>(type, c.fp64_contents());
    case DataType::kBytes:
      return PackBytes(c.bytes_contents());
    default:
      return absl::InternalError("no typed contents field for this datatype");
  }
}

}  // namespace

bool HasTypedContents(const InferTensorContents& contents) {
  for (const FieldCount& f : FieldCounts(contents)) {
    if (f.size > 0) return true;
  }
  return false;
}

std::string_view TypedContentsField(DataType type) {
  switch (type) {
    case DataType::kBool:
      return "bool_contents";
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      return "int_contents";
    case DataType::kInt64:
      return "int64_contents";
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
      return "uint_contents";
    case DataType::kUint64:
      return "uint64_contents";
    case DataType::kFp32:
      return "fp32_contents";
    case DataType::kFp64:
      return "fp64_contents";
    case DataType::kBytes:
      return "bytes_contents";
    default:
      return "";
  }
}

absl::StatusOr<TensorBuffer> PackTypedContents(
    DataType type, int64_t element_count, const InferTensorContents& contents) {
  const std::string_view field = TypedContentsField(type);
  if (field.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(ApiName(type)),
        " has no typed contents field; send it in raw_input_contents"));
  }
  int count = 0;
  for (const FieldCount& f : FieldCounts(contents)) {
    if (f.name == field) {
      count = f.size;
    } else if (f.size > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "datatype ", ToAbsl(ApiName(type)),
          " expects its values in contents.", ToAbsl(field), ", got ", f.size,
          " values in contents.", ToAbsl(f.name)));
    }
  }
  if (count != element_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", element_count, " values in contents.",
                     ToAbsl(field), ", got ", count));
  }
  return PackField(type, contents);
}

}  // namespace serval
