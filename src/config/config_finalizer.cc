#include "config/config_finalizer.h"

#include "config/config_validator.h"
#include "config/unsupported_fields.h"

namespace serval {

absl::StatusOr<std::vector<std::string>> FinalizeModelConfig(
    const FinalizeOptions& options, inference::ModelConfig* config) {
  // Named first so that every message below names the model.
  if (config->name().empty()) config->set_name(options.model_name);
  // An unimplemented feature explains more than the validation errors it
  // may cause (e.g. sequence control inputs), so it is reported first.
  absl::StatusOr<std::vector<std::string>> warnings =
      CheckUnsupportedFields(*config);
  if (!warnings.ok()) return warnings.status();
  absl::Status status =
      ApplyConfigDefaults(options.model_name, options.defaults, config);
  if (!status.ok()) return status;
  status = ValidateModelConfig(*config, options.model_name);
  if (!status.ok()) return status;
  return warnings;
}

}  // namespace serval
