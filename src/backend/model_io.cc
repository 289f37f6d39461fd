#include "backend/model_io.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval {
namespace {

absl::StatusOr<TensorSpec> SpecFrom(std::string_view kind,
                                    const std::string& name,
                                    inference::DataType type,
                                    const google::protobuf::RepeatedField<int64_t>& dims) {
  auto dt = FromProtoDataType(type);
  if (!dt.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(kind), " '", name, "': unsupported data_type ",
        inference::DataType_Name(type)));
  }
  TensorSpec spec;
  spec.name = name;
  spec.datatype = *dt;
  spec.dims.assign(dims.begin(), dims.end());
  return spec;
}

Shape WithBatch(bool batching, const Shape& dims) {
  if (!batching) return dims;
  Shape full;
  full.reserve(dims.size() + 1);
  full.push_back(-1);
  full.insert(full.end(), dims.begin(), dims.end());
  return full;
}

}  // namespace

std::optional<size_t> ModelIo::InputIndex(std::string_view name) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<size_t> ModelIo::OutputIndex(std::string_view name) const {
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].name == name) return i;
  }
  return std::nullopt;
}

Shape ModelIo::FullInputShape(size_t i) const {
  return WithBatch(batching(), inputs[i].dims);
}

Shape ModelIo::FullOutputShape(size_t i) const {
  return WithBatch(batching(), outputs[i].dims);
}

absl::StatusOr<ModelIo> ModelIoFromConfig(
    const inference::ModelConfig& config) {
  ModelIo io;
  io.max_batch_size = config.max_batch_size();
  for (const auto& in : config.input()) {
    auto spec = SpecFrom("input", in.name(), in.data_type(), in.dims());
    if (!spec.ok()) return spec.status();
    spec->optional = in.optional();
    io.inputs.push_back(std::move(*spec));
  }
  for (const auto& out : config.output()) {
    auto spec = SpecFrom("output", out.name(), out.data_type(), out.dims());
    if (!spec.ok()) return spec.status();
    io.outputs.push_back(std::move(*spec));
  }
  return io;
}

}  // namespace serval
