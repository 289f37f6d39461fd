// The last step of loading a model's configuration: defaults, the check for
// fields serval does not implement, and validation, in that order. The
// whole load sequence is
//   ReadModelConfig (config_parser.h)      -> user config, or none
//   ResolveBackend (backend_resolution.h)  -> which plugin
//   plugin auto-complete + MergeAutoCompleteJson (autocomplete_merge.h)
//   FinalizeModelConfig                    -> ready to serve, plus warnings
// Thread-safe.
#ifndef SERVAL_CONFIG_CONFIG_FINALIZER_H_
#define SERVAL_CONFIG_CONFIG_FINALIZER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config_defaults.h"
#include "proto/model_config.pb.h"

namespace serval {

struct FinalizeOptions {
  // The model's directory name: the default for, and check of, `name`.
  std::string model_name;
  DefaultsOptions defaults;
};

// Completes `config` in place. Returns warnings for the caller to log (one
// line each, naming the model and the field). Errors: INVALID_ARGUMENT for
// a bad value, UNIMPLEMENTED for a field serval must not ignore.
absl::StatusOr<std::vector<std::string>> FinalizeModelConfig(
    const FinalizeOptions& options, inference::ModelConfig* config);

}  // namespace serval

#endif  // SERVAL_CONFIG_CONFIG_FINALIZER_H_
