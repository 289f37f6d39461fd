// Internal to src/config: checks of the input/output tensor declarations,
// used by ValidateModelConfig. Thread-safe.
#ifndef SERVAL_CONFIG_TENSOR_VALIDATOR_H_
#define SERVAL_CONFIG_TENSOR_VALIDATOR_H_

#include "config/validation_problems.h"
#include "proto/model_config.pb.h"

namespace serval {

// At least one input and one output; unique non-empty names; data_type
// set; dims non-empty with each dim >= 1 or -1; reshape dims likewise and
// with the same element count as dims when neither has a -1.
void ValidateTensors(const inference::ModelConfig& config,
                     ValidationProblems* problems);

}  // namespace serval

#endif  // SERVAL_CONFIG_TENSOR_VALIDATOR_H_
