// The declared inputs and outputs of a model version in serval's own types
// (TensorSpec from config/model_spec.h), indexed by position as the backend
// ABI and the batcher use them, derived once so the hot path never touches
// the proto.
// Immutable after construction; safe to share between threads.
#ifndef SERVAL_BACKEND_MODEL_IO_H_
#define SERVAL_BACKEND_MODEL_IO_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/model_spec.h"
#include "proto/model_config.pb.h"
#include "tensor/datatype.h"
#include "tensor/shape.h"

namespace serval {

struct ModelIo {
  int32_t max_batch_size = 0;  // 0: the model does not batch
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;

  bool batching() const { return max_batch_size > 0; }
  // Index into inputs/outputs, or nullopt.
  std::optional<size_t> InputIndex(std::string_view name) const;
  std::optional<size_t> OutputIndex(std::string_view name) const;
  // Full shape a client sees: dims with a leading -1 when batching.
  Shape FullInputShape(size_t i) const;
  Shape FullOutputShape(size_t i) const;

  // config `reshape`: the shape the backend sees for a client's input, the
  // output shape the backend must produce (batch dim included when
  // batching), and the client's shape of an output the backend produced.
  // Identity when no reshape is declared.
  Shape BackendInputShape(size_t i, const Shape& client_shape) const;
  Shape BackendOutputShape(size_t o) const;
  Shape ClientOutputShape(size_t o, const Shape& backend_shape) const;
};

// Fails when a tensor has an invalid datatype; the config layer has
// already validated the rest.
absl::StatusOr<ModelIo> ModelIoFromConfig(const inference::ModelConfig& config);

}  // namespace serval

#endif  // SERVAL_BACKEND_MODEL_IO_H_
