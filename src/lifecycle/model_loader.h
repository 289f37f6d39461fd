// BackendVersionLoader: the VersionLoader of the real server. Completes a
// model's config (backend auto-complete, defaults, validation), selects its
// versions by policy, loads each version through its backend plugin (found
// and opened once per name in the backend directory), starts its instances
// and warms it up. Thread-safe.
#ifndef SERVAL_LIFECYCLE_MODEL_LOADER_H_
#define SERVAL_LIFECYCLE_MODEL_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "backend/backend_registry.h"
#include "common/executor.h"
#include "config/config_defaults.h"
#include "ensemble/step_dispatcher.h"
#include "lifecycle/version_loader.h"
#include "metrics/metrics_options.h"

namespace serval {

struct BackendLoaderOptions {
  std::string backend_directory;
  DefaultsOptions defaults;
  // Copied into every version (Prometheus recording on or off, buckets).
  MetricsOptions metrics;
  // Destroys released versions (MakeModelHandle); must outlive every
  // handle the loader returns.
  Executor* reaper = nullptr;
  // Runs ensemble steps and describes their models; must outlive every
  // ensemble version. Null: ensembles fail to load.
  StepDispatcher* steps = nullptr;
  // Ensemble requests in flight per ensemble when its config leaves
  // ensemble_scheduling.max_inflight_requests at 0.
  uint32_t ensemble_max_inflight = 32;
};

class BackendVersionLoader final : public VersionLoader {
 public:
  explicit BackendVersionLoader(BackendLoaderOptions options);

  absl::StatusOr<PreparedModel> Prepare(
      const ScannedModel& model,
      const inference::ModelConfig* config_override) override;
  std::vector<std::string> Dependencies(const ScannedModel& model) override;
  absl::StatusOr<ModelHandle> Load(
      const ScannedModel& model, const PreparedModel& prepared, int64_t version,
      std::shared_ptr<const void> files_owner) override;

 private:
  absl::StatusOr<ModelHandle> LoadEnsemble(const ScannedModel& model,
                                           const PreparedModel& prepared,
                                           int64_t version);

  const BackendLoaderOptions options_;
  BackendRegistry registry_;
};

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_MODEL_LOADER_H_
