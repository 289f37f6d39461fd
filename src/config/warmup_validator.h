// Internal to src/config: checks of model_warmup samples against the
// declared inputs, used by ValidateModelConfig. Thread-safe.
#ifndef SERVAL_CONFIG_WARMUP_VALIDATOR_H_
#define SERVAL_CONFIG_WARMUP_VALIDATOR_H_

#include "config/validation_problems.h"
#include "proto/model_config.pb.h"

namespace serval {

void ValidateWarmup(const inference::ModelConfig& config,
                    ValidationProblems* problems);

}  // namespace serval

#endif  // SERVAL_CONFIG_WARMUP_VALIDATOR_H_
