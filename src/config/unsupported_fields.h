// Names, by proto field path, the config fields serval parses but does not
// implement. Ignoring some would change results (sequence batching,
// ensembles, ragged batches, ...): those are errors. The rest only lose an
// optimisation or a cosmetic feature: those are warnings. Thread-safe.
#ifndef SERVAL_CONFIG_UNSUPPORTED_FIELDS_H_
#define SERVAL_CONFIG_UNSUPPORTED_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"

namespace serval {

// Returns the warnings (one line each, e.g. "model 'm': field
// 'output[0].label_filename' is not implemented by serval and is ignored");
// the caller logs them. Fails with UNIMPLEMENTED naming every field that
// must not be ignored.
absl::StatusOr<std::vector<std::string>> CheckUnsupportedFields(
    const inference::ModelConfig& config);

}  // namespace serval

#endif  // SERVAL_CONFIG_UNSUPPORTED_FIELDS_H_
