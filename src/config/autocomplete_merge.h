// Merges what a backend learned from the model file (its auto-complete
// output, JSON in Triton field names) into the user's config, filling only
// what the user left unset. Whether a user declaration contradicts the
// model is for the backend to check, not this merge. Thread-safe.
#ifndef SERVAL_CONFIG_AUTOCOMPLETE_MERGE_H_
#define SERVAL_CONFIG_AUTOCOMPLETE_MERGE_H_

#include <string_view>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"

namespace serval {

// What is filled from `completed` into `config`:
//  - input / output: all of them when the user declared none; otherwise,
//    for each user tensor with the same name as a model tensor, a missing
//    data_type or empty dims;
//  - max_batch_size when the user did not write it;
//  - dynamic_batching when the user chose no scheduling at all and the
//    backend proposes it.
// Nothing else is taken from the backend.
void MergeAutoComplete(const inference::ModelConfig& completed,
                       inference::ModelConfig* config);

// Parses the backend's JSON, then merges as above. `backend` names the
// backend in error messages.
absl::Status MergeAutoCompleteJson(std::string_view json,
                                   std::string_view backend,
                                   inference::ModelConfig* config);

}  // namespace serval

#endif  // SERVAL_CONFIG_AUTOCOMPLETE_MERGE_H_
