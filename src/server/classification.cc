#include "server/classification.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "tensor/shape.h"

namespace serval {
namespace {

template <typename T>
std::string Text(T v) {
  // std::to_string, as Triton prints it; int8 and uint8 print as numbers.
  if constexpr (sizeof(T) == 1) {
    return std::to_string(static_cast<int>(v));
  } else {
    return std::to_string(v);
  }
}

template <typename T>
void TopK(const char* data, int64_t items, int64_t per_item, uint32_t k,
          const std::vector<std::string>& labels, std::string* out) {
  const int64_t top = std::min<int64_t>(k, per_item);
  std::vector<int64_t> order(static_cast<size_t>(per_item));
  for (int64_t item = 0; item < items; ++item) {
    const char* base = data + item * per_item * static_cast<int64_t>(sizeof(T));
    auto value = [base](int64_t i) {
      T v;
      std::memcpy(&v, base + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
      return v;
    };
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int64_t a, int64_t b) {
                        const T va = value(a), vb = value(b);
                        return va > vb || (va == vb && a < b);
                      });
    for (int64_t j = 0; j < top; ++j) {
      const int64_t index = order[static_cast<size_t>(j)];
      std::string element = absl::StrCat(Text(value(index)), ":", index);
      if (static_cast<size_t>(index) < labels.size()) {
        absl::StrAppend(&element, ":", labels[static_cast<size_t>(index)]);
      }
      AppendBytesElement(element, out);
    }
  }
}

}  // namespace

absl::StatusOr<OutputTensor> Classify(const OutputTensor& output, uint32_t k,
                                      bool batching,
                                      const std::vector<std::string>& labels) {
  const bool has_batch = batching && !output.shape.empty();
  const int64_t items = has_batch ? output.shape[0] : 1;
  int64_t per_item = 1;
  for (size_t d = has_batch ? 1 : 0; d < output.shape.size(); ++d) {
    per_item *= output.shape[d];
  }
  const size_t element_size = ElementSize(output.datatype);
  if (element_size == 0 ||
      static_cast<uint64_t>(items * per_item) * element_size !=
          output.data.size()) {
    if (output.datatype == DataType::kBytes || element_size == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("class result not available for output '", output.name,
                       "' due to unsupported type '",
                       ToAbsl(ApiName(output.datatype)), "'"));
    }
    return absl::InternalError(
        absl::StrCat("output '", output.name, "' does not hold its shape"));
  }
  std::string serialized;
  const char* data = output.data.data();
  switch (output.datatype) {
    case DataType::kUint8:
      TopK<uint8_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kUint16:
      TopK<uint16_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kUint32:
      TopK<uint32_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kUint64:
      TopK<uint64_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kInt8:
      TopK<int8_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kInt16:
      TopK<int16_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kInt32:
      TopK<int32_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kInt64:
      TopK<int64_t>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kFp32:
      TopK<float>(data, items, per_item, k, labels, &serialized);
      break;
    case DataType::kFp64:
      TopK<double>(data, items, per_item, k, labels, &serialized);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("class result not available for output '", output.name,
                       "' due to unsupported type '",
                       ToAbsl(ApiName(output.datatype)), "'"));
  }
  OutputTensor result;
  result.name = output.name;
  result.datatype = DataType::kBytes;
  const int64_t top = std::min<int64_t>(k, per_item);
  result.shape = has_batch ? Shape{items, top} : Shape{top};
  result.data.Resize(serialized.size());
  if (!serialized.empty()) {
    std::memcpy(result.data.data(), serialized.data(), serialized.size());
  }
  return result;
}

}  // namespace serval
