// VersionLoader: how the ModelManager turns a scanned model directory into
// servable versions. The manager decides what to load and when, and
// switches versions; the loader does the work: completing the config and
// loading one version through its backend. Injected, so that the manager's
// tests use a fake loader instead of dlopen'ing plugins.
#ifndef SERVAL_LIFECYCLE_VERSION_LOADER_H_
#define SERVAL_LIFECYCLE_VERSION_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backend/backend_library.h"
#include "common/executor.h"
#include "config/backend_resolution.h"
#include "lifecycle/model_version.h"
#include "proto/model_config.pb.h"
#include "repository/repository_scanner.h"

namespace serval {

// A model whose configuration is final, ready to load versions of.
struct PreparedModel {
  inference::ModelConfig config;
  BackendChoice backend;
  // The plugin that serves it; null for loaders without plugins (tests).
  std::shared_ptr<BackendLibrary> library;
  std::vector<int64_t> versions;  // selected by the version policy
  std::vector<std::string> warnings;
  // The models it needs loaded first (an ensemble's step models).
  std::vector<std::string> dependencies;
};

// Implementations are called from the manager's load threads, for
// different models at once; they must be thread-safe.
class VersionLoader {
 public:
  virtual ~VersionLoader() = default;

  // Reads and completes the model's configuration and selects its versions.
  // `config_override`, when given, replaces config.pbtxt (the load API's
  // 'config' parameter); it is completed and validated the same way.
  virtual absl::StatusOr<PreparedModel> Prepare(
      const ScannedModel& model,
      const inference::ModelConfig* config_override) = 0;

  // The models `model` needs serving before it loads (an ensemble's step
  // models), from its config on disk; cheap, no validation.
  virtual std::vector<std::string> Dependencies(const ScannedModel& model) {
    (void)model;
    return {};
  }

  // Loads one version, starts its scheduler and warms it up. `files_owner`
  // (may be null) is kept alive as long as the version.
  virtual absl::StatusOr<ModelHandle> Load(
      const ScannedModel& model, const PreparedModel& prepared, int64_t version,
      std::shared_ptr<const void> files_owner) = 0;
};

// Shares `version` as a handle whose last release destroys it on `reaper`
// (a thread of its own: the last release may happen on one of the version's
// own workers, which its destruction joins). `reaper` must outlive every
// handle.
ModelHandle MakeModelHandle(std::unique_ptr<ModelVersion> version,
                            Executor* reaper);

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_VERSION_LOADER_H_
