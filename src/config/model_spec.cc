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

std::optional<size_t> IndexByName(const std::vector<TensorSpec>& tensors,
                                  std::string_view name) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].name == name) return i;
  }
  return std::nullopt;
}

Shape WithBatch(bool batching, const Shape& dims) {
  if (!batching) return dims;
  Shape full;
  full.reserve(dims.size() + 1);
  full.push_back(-1);
  full.insert(full.end(), dims.begin(), dims.end());
  return full;
}

// Prefixes `batch` (a concrete batch size) when the model batches.
Shape WithBatchSize(bool batching, int64_t batch, const Shape& dims) {
  Shape full = WithBatch(batching, dims);
  if (batching) full[0] = batch;
  return full;
}

bool AllFixed(const Shape& dims) {
  for (int64_t d : dims) {
    if (d < 0) return false;
  }
  return true;
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

std::optional<size_t> ModelSpec::InputIndex(std::string_view name) const {
  return IndexByName(inputs, name);
}

std::optional<size_t> ModelSpec::OutputIndex(std::string_view name) const {
  return IndexByName(outputs, name);
}

Shape ModelSpec::FullInputShape(size_t i) const {
  return WithBatch(batching(), inputs[i].dims);
}

Shape ModelSpec::FullOutputShape(size_t o) const {
  return WithBatch(batching(), outputs[o].dims);
}

Shape ModelSpec::BackendInputShape(size_t i, const Shape& client_shape) const {
  const TensorSpec& spec = inputs[i];
  if (!spec.reshape.has_value()) return client_shape;
  return WithBatchSize(batching(), batching() ? client_shape[0] : 0,
                       *spec.reshape);
}

Shape ModelSpec::BackendOutputShape(size_t o) const {
  const TensorSpec& spec = outputs[o];
  return WithBatch(batching(), spec.reshape.value_or(spec.dims));
}

Shape ModelSpec::ClientOutputShape(size_t o, const Shape& backend_shape) const {
  const TensorSpec& spec = outputs[o];
  // A reshape with variable dims has no single inverse: keep the backend's.
  if (!spec.reshape.has_value() || !AllFixed(spec.dims)) return backend_shape;
  return WithBatchSize(batching(), batching() ? backend_shape[0] : 0,
                       spec.dims);
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
