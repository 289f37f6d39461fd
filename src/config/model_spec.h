// The parts of a finalized ModelConfig the server core needs per request,
// as serval types (DataType, Shape) so callers do not convert proto enums.
// A ModelSpec is an immutable value; share it freely between threads.
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

  // nullptr when there is no tensor of that name.
  const TensorSpec* FindInput(std::string_view name) const;
  const TensorSpec* FindOutput(std::string_view name) const;

  // Builds the spec of a validated config. Fails (INTERNAL) only on a
  // config that has not been through ValidateModelConfig.
  static absl::StatusOr<ModelSpec> FromConfig(
      const inference::ModelConfig& config);
};

}  // namespace serval

#endif  // SERVAL_CONFIG_MODEL_SPEC_H_
