#include "config/model_spec.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval {
namespace {

template <typename ProtoTensor>
absl::StatusOr<TensorSpec> ToTensorSpec(const ProtoTensor& tensor,
                                        std::string_view model_name) {
  std::optional<DataType> type = FromProtoDataType(tensor.data_type());
  if (!type.has_value()) {
    return absl::InternalError(absl::StrCat(
        "model '", ToAbsl(model_name), "': tensor '", tensor.name(),
        "' has no valid data_type; the config was not validated"));
  }
  TensorSpec spec;
  spec.name = tensor.name();
  spec.datatype = *type;
  spec.dims.assign(tensor.dims().begin(), tensor.dims().end());
  if (tensor.has_reshape()) {
    spec.reshape.emplace(tensor.reshape().shape().begin(),
                         tensor.reshape().shape().end());
  }
  return spec;
}

const TensorSpec* FindByName(const std::vector<TensorSpec>& tensors,
                             std::string_view name) {
  for (const TensorSpec& tensor : tensors) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

}  // namespace

std::optional<DataType> FromProtoDataType(inference::DataType type) {
  if (!inference::DataType_IsValid(type)) return std::nullopt;
  return DataTypeFromConfigName(inference::DataType_Name(type));
}

inference::DataType ToProtoDataType(DataType type) {
  inference::DataType out = inference::TYPE_INVALID;
  const std::string_view name = ConfigName(type);
  if (!inference::DataType_Parse(std::string(name), &out)) {
    return inference::TYPE_INVALID;
  }
  return out;
}

const TensorSpec* ModelSpec::FindInput(std::string_view name) const {
  return FindByName(inputs, name);
}

const TensorSpec* ModelSpec::FindOutput(std::string_view name) const {
  return FindByName(outputs, name);
}

absl::StatusOr<ModelSpec> ModelSpec::FromConfig(
    const inference::ModelConfig& config) {
  ModelSpec spec;
  spec.name = config.name();
  spec.max_batch_size = config.max_batch_size();
  for (const inference::ModelInput& input : config.input()) {
    absl::StatusOr<TensorSpec> tensor = ToTensorSpec(input, spec.name);
    if (!tensor.ok()) return tensor.status();
    tensor->optional = input.optional();
    spec.inputs.push_back(*std::move(tensor));
  }
  for (const inference::ModelOutput& output : config.output()) {
    absl::StatusOr<TensorSpec> tensor = ToTensorSpec(output, spec.name);
    if (!tensor.ok()) return tensor.status();
    spec.outputs.push_back(*std::move(tensor));
  }
  return spec;
}

}  // namespace serval
