// ModelManager: which model versions exist, their state, and the handles
// requests use. Loads every model of the repositories at start-up (versions
// in parallel on load threads); a model that fails is recorded with its
// reason and does not stop the others. Thread-safe.
#ifndef SERVAL_LIFECYCLE_MODEL_MANAGER_H_
#define SERVAL_LIFECYCLE_MODEL_MANAGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "backend/backend_registry.h"
#include "config/config_defaults.h"
#include "lifecycle/model_version.h"

namespace serval {

enum class VersionState { kUnavailable, kLoading, kReady, kUnloading };
std::string_view VersionStateName(VersionState state);

struct VersionStatus {
  std::string model;
  int64_t version = -1;  // -1 when the model failed before any version
  VersionState state = VersionState::kUnavailable;
  std::string reason;
};

struct ManagerOptions {
  std::vector<std::string> repositories;
  std::string backend_directory;
  int load_threads = 4;
  DefaultsOptions defaults;
};

class ModelManager {
 public:
  explicit ModelManager(ManagerOptions options);
  ~ModelManager();

  // Scans the repositories and loads every model. Fails only when a
  // repository cannot be scanned; per-model failures are in Index().
  absl::Status LoadAll();

  // version -1: the newest ready version. NOT_FOUND names what is known.
  absl::StatusOr<ModelHandle> Get(std::string_view model, int64_t version) const;
  // Ready versions of a model, ascending; NOT_FOUND for an unknown model.
  absl::StatusOr<std::vector<ModelHandle>> ReadyVersions(
      std::string_view model) const;
  std::vector<ModelHandle> AllReady() const;
  std::vector<VersionStatus> Index() const;

  // Stops every scheduler (queued requests still run) and drops the handles.
  void StopAll();

 private:
  struct VersionRecord {
    VersionState state = VersionState::kLoading;
    std::string reason;
    ModelHandle handle;
  };
  struct ModelRecord {
    std::string problem;  // a model-level failure (config, scan, backend)
    std::map<int64_t, VersionRecord> versions;
  };

  void SetModelProblem(const std::string& model, const absl::Status& status);

  ManagerOptions options_;
  BackendRegistry registry_;
  mutable std::mutex mu_;
  std::map<std::string, ModelRecord, std::less<>> models_ ABSL_GUARDED_BY(mu_);
};

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_MODEL_MANAGER_H_
