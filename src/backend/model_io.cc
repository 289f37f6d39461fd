#include "backend/model_io.h"


namespace serval {
namespace {

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

Shape ModelIo::BackendInputShape(size_t i, const Shape& client_shape) const {
  const TensorSpec& spec = inputs[i];
  if (!spec.reshape.has_value()) return client_shape;
  return WithBatchSize(batching(), batching() ? client_shape[0] : 0, *spec.reshape);
}

Shape ModelIo::BackendOutputShape(size_t o) const {
  const TensorSpec& spec = outputs[o];
  return WithBatch(batching(), spec.reshape.value_or(spec.dims));
}

Shape ModelIo::ClientOutputShape(size_t o, const Shape& backend_shape) const {
  const TensorSpec& spec = outputs[o];
  // A reshape with variable dims has no single inverse: keep the backend's.
  if (!spec.reshape.has_value() || !AllFixed(spec.dims)) return backend_shape;
  return WithBatchSize(batching(), batching() ? backend_shape[0] : 0, spec.dims);
}

absl::StatusOr<ModelIo> ModelIoFromConfig(
    const inference::ModelConfig& config) {
  auto spec = ModelSpec::FromConfig(config);
  if (!spec.ok()) return spec.status();
  ModelIo io;
  io.max_batch_size = spec->max_batch_size;
  io.inputs = std::move(spec->inputs);
  io.outputs = std::move(spec->outputs);
  return io;
}

}  // namespace serval
