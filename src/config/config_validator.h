// Checks a model config after auto-complete and defaults, reporting every
// problem at once with the model, the field path, what is wrong and what
// was expected. Thread-safe.
#ifndef SERVAL_CONFIG_CONFIG_VALIDATOR_H_
#define SERVAL_CONFIG_CONFIG_VALIDATOR_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"

namespace serval {

// Longest dynamic_batching.max_queue_delay_microseconds accepted: 10 s is
// beyond any latency budget, so a larger value is a unit mistake.
inline constexpr uint64_t kMaxQueueDelayMicros = 10'000'000;

// Returns INVALID_ARGUMENT "model '<name>': <field> <problem>; ..." when:
//  - name differs from `directory_name` (when both are non-empty);
//  - max_batch_size < 0;
//  - tensors: see ValidateTensors (tensor_validator.h);
//  - instance_group: count < 0, kind not CPU/GPU/AUTO (MODEL is refused by
//    CheckUnsupportedFields), a gpu id < 0, gpus on a KIND_CPU group;
//  - dynamic_batching with max_batch_size 0; a preferred_batch_size outside
//    1..max_batch_size; max_queue_delay_microseconds over
//    kMaxQueueDelayMicros; default_priority_level outside 1..priority_levels
//    (or non-zero without levels); priority_queue_policy keys outside
//    1..priority_levels;
//  - version_policy: latest.num_versions 0; specific without versions, or
//    with a negative or repeated version;
//  - model_warmup: empty name; batch_size outside 1..max(1, max_batch_size);
//    an input not declared by the model, or with another data_type, or dims
//    that do not fit the declared dims, or without a data source; a
//    required model input missing from the sample.
absl::Status ValidateModelConfig(const inference::ModelConfig& config,
                                 std::string_view directory_name);

}  // namespace serval

#endif  // SERVAL_CONFIG_CONFIG_VALIDATOR_H_
