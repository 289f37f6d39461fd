// An ensemble's steps, checked against the models they name and turned
// into the graph the executor runs: every tensor the ensemble moves (its
// inputs, each step's outputs), who produces it and who consumes it, and
// each step's bindings between its model's tensor names and the
// ensemble's. Built once per load; immutable, shared by the workers.
#ifndef SERVAL_ENSEMBLE_ENSEMBLE_PLAN_H_
#define SERVAL_ENSEMBLE_ENSEMBLE_PLAN_H_

#include <cstdint>
#include <functional>
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

struct EnsembleTensor {
  std::string name;
  DataType datatype = DataType::kInvalid;
  // As a client would see it (batch dim included when batching).
  Shape shape;
  // The step producing it; -1 for an ensemble input.
  int producer = -1;
  // Steps reading it, in step order.
  std::vector<size_t> consumers;
};

struct EnsembleStepPlan {
  std::string model;
  int64_t version = -1;  // -1: the latest ready version
  // A tensor of the step's model bound to a tensor of the ensemble.
  struct Binding {
    std::string model_tensor;
    size_t tensor = 0;  // index into EnsemblePlan::tensors
  };
  std::vector<Binding> inputs;   // sorted by model_tensor
  std::vector<Binding> outputs;  // sorted by model_tensor
};

struct EnsemblePlan {
  std::string name;
  std::vector<EnsembleTensor> tensors;
  std::vector<EnsembleStepPlan> steps;
  // Tensor of each ensemble input and output, in spec order.
  std::vector<size_t> input_tensors;
  std::vector<size_t> output_tensors;

  // "step 1 (model 'preprocess')": how messages name a step.
  std::string StepLabel(size_t step) const;
};

// The spec of a step's model as it serves now; an error when it does not.
using StepLookup =
    std::function<absl::StatusOr<ModelSpec>(std::string_view, int64_t)>;

// Checks the ensemble's steps against its spec and the step models, and
// reports every problem at once (INVALID_ARGUMENT, or NOT_FOUND when the
// only problems are step models that are not available): steps naming
// models that are not loaded or tensors those models do not have, a
// required step input left unmapped, a tensor nobody produces or produced
// twice, steps that form a cycle, datatype or shape mismatches between a
// producer and a consumer, an ensemble input nobody consumes, an ensemble
// output nobody produces.
absl::StatusOr<EnsemblePlan> BuildEnsemblePlan(
    const ModelSpec& ensemble, const inference::ModelEnsembling& scheduling,
    const StepLookup& lookup);

// The distinct model names an ensemble config's steps use, in step order;
// empty for a config that is not an ensemble. Reads the config only.
std::vector<std::string> EnsembleStepModels(
    const inference::ModelConfig& config);

}  // namespace serval

#endif  // SERVAL_ENSEMBLE_ENSEMBLE_PLAN_H_
