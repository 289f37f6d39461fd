// What the server does with a model configuration it was given, whichever
// way it came (config.pbtxt text, or the JSON of a load request): complete
// and validate it, then build the serving spec from it. Shared by the
// config fuzzers.
#ifndef SERVAL_TESTS_FUZZ_FUZZ_CONFIG_H_
#define SERVAL_TESTS_FUZZ_FUZZ_CONFIG_H_

#include "config/config_finalizer.h"
#include "config/config_json.h"
#include "config/model_spec.h"

namespace serval::fuzz {

inline void FinalizeAndBuild(inference::ModelConfig config) {
  FinalizeOptions options;
  options.model_name = config.name().empty() ? "m" : config.name();
  if (!FinalizeModelConfig(options, &config).ok()) return;
  absl::StatusOr<ModelSpec> spec = ModelSpec::FromConfig(config);
  // A config that passed validation always yields a spec.
  if (!spec.ok()) __builtin_trap();
  for (size_t i = 0; i < spec->inputs.size(); ++i) {
    (void)spec->FullInputShape(i);
  }
  // A finalized config survives its own JSON form (the config endpoint).
  (void)ModelConfigToJson(config);
}

}  // namespace serval::fuzz

#endif  // SERVAL_TESTS_FUZZ_FUZZ_CONFIG_H_
