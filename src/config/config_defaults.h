// Fills the fields a user may leave out, the way Triton does, once the
// backend's auto-complete has been merged and before validation. Values the
// user did write are never changed, except that placement-free choices
// (KIND_AUTO, an empty gpus list) become concrete. Thread-safe.
#ifndef SERVAL_CONFIG_CONFIG_DEFAULTS_H_
#define SERVAL_CONFIG_CONFIG_DEFAULTS_H_

#include <string_view>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"

namespace serval {

struct DefaultsOptions {
  // GPUs this process can use (device ids 0..visible_gpus-1).
  int visible_gpus = 0;
};

// Defaults applied:
//  - name: the model's directory name when empty;
//  - max_batch_size: 0 when not written (set explicitly so it is shown);
//  - version_policy: latest { num_versions: 1 } when absent;
//  - instance_group: one group { count: 1 kind: KIND_CPU } when none; in
//    each group count 0 -> 1, an empty name -> "<model>_<index>", KIND_AUTO
//    -> KIND_GPU when every listed GPU (or any GPU, if none listed) is
//    visible, else KIND_CPU; KIND_GPU with no gpus -> every visible GPU;
//  - dynamic_batching: with priority_levels > 0 and no
//    default_priority_level, requests without a priority get the least
//    urgent level (priority_levels), so they never overtake those that ask;
//  - model_warmup: batch_size 0 -> 1.
// Fails (INVALID_ARGUMENT) when a group needs a GPU that is not visible.
// Negative counts and ids are left for ValidateModelConfig to report.
absl::Status ApplyConfigDefaults(std::string_view model_name,
                                 const DefaultsOptions& options,
                                 inference::ModelConfig* config);

}  // namespace serval

#endif  // SERVAL_CONFIG_CONFIG_DEFAULTS_H_
