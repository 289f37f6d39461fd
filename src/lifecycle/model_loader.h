// Turns a scanned model directory into servable versions: reads and
// completes its config (backend auto-complete, defaults, validation),
// selects versions by policy, loads each version through its plugin and
// starts its instances. Free functions; safe to call from load threads.
#ifndef SERVAL_LIFECYCLE_MODEL_LOADER_H_
#define SERVAL_LIFECYCLE_MODEL_LOADER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backend/backend_registry.h"
#include "config/backend_resolution.h"
#include "config/config_defaults.h"
#include "lifecycle/model_version.h"
#include "proto/model_config.pb.h"
#include "repository/repository_scanner.h"

namespace serval {

struct LoadContext {
  BackendRegistry* registry = nullptr;
  DefaultsOptions defaults;
};

// A model whose configuration is final, ready to load versions of.
struct PreparedModel {
  inference::ModelConfig config;
  BackendChoice backend;
  std::shared_ptr<BackendLibrary> library;
  std::vector<int64_t> versions;  // selected by the version policy
  std::vector<std::string> warnings;
};

// `config_override`, when given, replaces the model's config.pbtxt (the
// load API's 'config' parameter); it is completed and validated the same way.
absl::StatusOr<PreparedModel> PrepareModel(
    const LoadContext& context, const ScannedModel& model,
    const inference::ModelConfig* config_override = nullptr);

// Loads one version, starts its scheduler, runs its warm-up and records the
// memory it took; a warm-up failure fails the load. `files_owner` (may be
// null) is kept alive as long as the version. The handle is destroyed on
// the reaper thread when its last user drops it.
absl::StatusOr<ModelHandle> LoadVersion(
    const ScannedModel& model, const PreparedModel& prepared, int64_t version,
    std::shared_ptr<const void> files_owner = nullptr);

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_MODEL_LOADER_H_
