// The declared inputs and outputs of a model version in serval's own types
// (DataType, Shape), indexed by position as the backend ABI and the batcher
// use them. Derived once from the finalized ModelConfig so that the request
// path never touches the proto. An immutable value: share it freely between
// threads.
#ifndef SERVAL_CONFIG_MODEL_SPEC_H_
#define SERVAL_CONFIG_MODEL_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "tensor/datatype.h"
#include "tensor/shape.h"

namespace serval {

// Proto enum <-> serval::DataType, matched by config name ("TYPE_FP32").
// nullopt for TYPE_INVALID and values outside the enum.
std::optional<DataType> FromProtoDataType(inference::DataType type);
inference::DataType ToProtoDataType(DataType type);

struct TensorSpec {
  std::string name;
  DataType datatype = DataType::kInvalid;
  // As declared in the config: without the batch dim; -1 = any size.
  Shape dims;
  // The shape the backend sees instead of `dims`, when the config says so.
  std::optional<Shape> reshape;
  // Inputs only: the request may omit it.
  bool optional = false;
};

struct ModelSpec {
  std::string name;
  // 0 = the model does not batch; else dims exclude the leading batch dim.
  int32_t max_batch_size = 0;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;

  bool batching() const { return max_batch_size > 0; }
  // Position in inputs/outputs, or nullopt when there is no such tensor.
  std::optional<size_t> InputIndex(std::string_view name) const;
  std::optional<size_t> OutputIndex(std::string_view name) const;
  // Full shape a client sees: dims with a leading -1 when batching.
  Shape FullInputShape(size_t i) const;
  Shape FullOutputShape(size_t o) const;

  // config `reshape`: the shape the backend sees for a client's input, the
  // output shape the backend must produce (batch dim included when
  // batching), and the client's shape of an output the backend produced.
  // Identity when no reshape is declared.
  Shape BackendInputShape(size_t i, const Shape& client_shape) const;
  Shape BackendOutputShape(size_t o) const;
  Shape ClientOutputShape(size_t o, const Shape& backend_shape) const;

  // Builds the spec of a validated config. Fails (INTERNAL) only on a
  // config that has not been through ValidateModelConfig.
  static absl::StatusOr<ModelSpec> FromConfig(
      const inference::ModelConfig& config);
};

}  // namespace serval

#endif  // SERVAL_CONFIG_MODEL_SPEC_H_
