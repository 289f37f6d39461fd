#include "tensor/datatype.h"

#include <array>

namespace serval {
namespace {

struct TypeInfo {
  DataType type;
  size_t size;
  std::string_view api;
  std::string_view config;
};

constexpr std::array<TypeInfo, 14> kTypes = {{
    {DataType::kBool, 1, "BOOL", "TYPE_BOOL"},
    {DataType::kUint8, 1, "UINT8", "TYPE_UINT8"},
    {DataType::kUint16, 2, "UINT16", "TYPE_UINT16"},
    {DataType::kUint32, 4, "UINT32", "TYPE_UINT32"},
    {DataType::kUint64, 8, "UINT64", "TYPE_UINT64"},
    {DataType::kInt8, 1, "INT8", "TYPE_INT8"},
    {DataType::kInt16, 2, "INT16", "TYPE_INT16"},
    {DataType::kInt32, 4, "INT32", "TYPE_INT32"},
    {DataType::kInt64, 8, "INT64", "TYPE_INT64"},
    {DataType::kFp16, 2, "FP16", "TYPE_FP16"},
    {DataType::kFp32, 4, "FP32", "TYPE_FP32"},
    {DataType::kFp64, 8, "FP64", "TYPE_FP64"},
    {DataType::kBf16, 2, "BF16", "TYPE_BF16"},
    {DataType::kBytes, 0, "BYTES", "TYPE_STRING"},
}};

const TypeInfo* Find(DataType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

}  // namespace

size_t ElementSize(DataType type) {
  const TypeInfo* t = Find(type);
  return t ? t->size : 0;
}

std::string_view ApiName(DataType type) {
  const TypeInfo* t = Find(type);
  return t ? t->api : "INVALID";
}

std::string_view ConfigName(DataType type) {
  const TypeInfo* t = Find(type);
  return t ? t->config : "TYPE_INVALID";
}

std::optional<DataType> DataTypeFromApiName(std::string_view name) {
  for (const auto& t : kTypes) {
    if (t.api == name) return t.type;
  }
  return std::nullopt;
}

std::optional<DataType> DataTypeFromConfigName(std::string_view name) {
  for (const auto& t : kTypes) {
    if (t.config == name) return t.type;
  }
  return std::nullopt;
}

std::optional<DataType> DataTypeFromInt(int value) {
  if (value <= SERVAL_TYPE_INVALID || value > SERVAL_TYPE_BYTES) {
    return std::nullopt;
  }
  return static_cast<DataType>(value);
}

}  // namespace serval
