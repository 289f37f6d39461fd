// Test helpers for the ensemble module: specs written in one line.
#ifndef SERVAL_ENSEMBLE_ENSEMBLE_TEST_UTIL_H_
#define SERVAL_ENSEMBLE_ENSEMBLE_TEST_UTIL_H_

#include <string>
#include <vector>

#include "config/model_spec.h"

namespace serval::testing {

inline TensorSpec Tensor(std::string name, DataType type, Shape dims,
                         bool optional = false) {
  TensorSpec t;
  t.name = std::move(name);
  t.datatype = type;
  t.dims = std::move(dims);
  t.optional = optional;
  return t;
}

inline ModelSpec Spec(std::string name, int32_t max_batch_size,
                      std::vector<TensorSpec> inputs,
                      std::vector<TensorSpec> outputs) {
  ModelSpec s;
  s.name = std::move(name);
  s.max_batch_size = max_batch_size;
  s.inputs = std::move(inputs);
  s.outputs = std::move(outputs);
  return s;
}

inline inference::ModelEnsembling::Step* AddStep(
    inference::ModelEnsembling* e, const std::string& model,
    std::vector<std::pair<std::string, std::string>> inputs,
    std::vector<std::pair<std::string, std::string>> outputs) {
  auto* step = e->add_step();
  step->set_model_name(model);
  step->set_model_version(-1);
  for (auto& [k, v] : inputs) (*step->mutable_input_map())[k] = v;
  for (auto& [k, v] : outputs) (*step->mutable_output_map())[k] = v;
  return step;
}

}  // namespace serval::testing

#endif  // SERVAL_ENSEMBLE_ENSEMBLE_TEST_UTIL_H_
