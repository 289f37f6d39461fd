// Tensor element types: sizes and the two naming schemes (KServe v2 API
// names such as "FP32", config.pbtxt names such as "TYPE_FP32").
#ifndef SERVAL_TENSOR_DATATYPE_H_
#define SERVAL_TENSOR_DATATYPE_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "serval/backend.h"

namespace serval {

enum class DataType : int {
  kInvalid = SERVAL_TYPE_INVALID,
  kBool = SERVAL_TYPE_BOOL,
  kUint8 = SERVAL_TYPE_UINT8,
  kUint16 = SERVAL_TYPE_UINT16,
  kUint32 = SERVAL_TYPE_UINT32,
  kUint64 = SERVAL_TYPE_UINT64,
  kInt8 = SERVAL_TYPE_INT8,
  kInt16 = SERVAL_TYPE_INT16,
  kInt32 = SERVAL_TYPE_INT32,
  kInt64 = SERVAL_TYPE_INT64,
  kFp16 = SERVAL_TYPE_FP16,
  kFp32 = SERVAL_TYPE_FP32,
  kFp64 = SERVAL_TYPE_FP64,
  kBf16 = SERVAL_TYPE_BF16,
  kBytes = SERVAL_TYPE_BYTES,
};

inline constexpr DataType kAllDataTypes[] = {
    DataType::kBool,   DataType::kUint8, DataType::kUint16, DataType::kUint32,
    DataType::kUint64, DataType::kInt8,  DataType::kInt16,  DataType::kInt32,
    DataType::kInt64,  DataType::kFp16,  DataType::kFp32,   DataType::kFp64,
    DataType::kBf16,   DataType::kBytes};

// Bytes per element; 0 for BYTES (variable) and kInvalid.
size_t ElementSize(DataType type);

// "FP32" etc.; "INVALID" for kInvalid.
std::string_view ApiName(DataType type);
// "TYPE_FP32" etc.; BYTES is "TYPE_STRING" as in Triton.
std::string_view ConfigName(DataType type);

std::optional<DataType> DataTypeFromApiName(std::string_view name);
std::optional<DataType> DataTypeFromConfigName(std::string_view name);
// From the ABI's int; nullopt for values outside the enum.
std::optional<DataType> DataTypeFromInt(int value);

}  // namespace serval

#endif  // SERVAL_TENSOR_DATATYPE_H_
