// ModelManager: which model versions exist, their state, and the handles
// requests use; loads, reloads and unloads them.
//
// A (re)load prepares the model's configuration, then loads and warms up
// every version its version policy selects (through the injected
// VersionLoader, on one of the manager's load threads) while the versions
// already loaded keep serving; then it switches all at once, under the
// lock, to the new set and publishes a new ServingMap. Requests resolve
// models through the published map without locking, and hold ModelHandles,
// so a replaced or unloaded version finishes its in-flight requests and is
// destroyed when the last one completes. If any version of a reload fails
// while older versions serve, nothing is switched: the old versions keep
// serving and the failure is reported in Index() and the log. Loads of one
// model are serialized; different models load in parallel.
//
// Thread-safe. See docs/lifecycle.md.
#ifndef SERVAL_LIFECYCLE_MODEL_MANAGER_H_
#define SERVAL_LIFECYCLE_MODEL_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/executor.h"
#include "lifecycle/model_upload.h"
#include "lifecycle/model_version.h"
#include "lifecycle/serving_map.h"
#include "lifecycle/version_loader.h"
#include "proto/model_config.pb.h"
#include "repository/model_store.h"
#include "repository/repository_scanner.h"

namespace serval {

enum class VersionState { kUnavailable, kLoading, kReady, kUnloading };
std::string_view VersionStateName(VersionState state);

// Triton's --model-control-mode.
enum class ModelControlMode {
  kNone,      // load everything at start-up; the load/unload API is refused
  kPoll,      // load everything, then follow the repository (RepositoryPoller)
  kExplicit,  // load what --load-model names, then only through the API
};
std::string_view ModelControlModeName(ModelControlMode mode);
absl::StatusOr<ModelControlMode> ParseModelControlMode(std::string_view name);

struct VersionStatus {
  std::string model;
  int64_t version = -1;  // -1 when the model failed before any version
  VersionState state = VersionState::kUnavailable;
  std::string reason;
  // Resident memory the version added when it loaded; -1 when unknown.
  int64_t memory_bytes = -1;
};

struct ManagerOptions {
  // The repositories as given, for messages and the poller.
  std::vector<std::string> repositories;
  // Where they are read from; empty: a local directory for each of
  // `repositories`.
  ModelStores stores;
  // Does the loading; required, and must outlive the manager.
  VersionLoader* loader = nullptr;
  int load_threads = 4;
  ModelControlMode control_mode = ModelControlMode::kNone;
  // Explicit mode: the models loaded at start-up; "*" means all of them.
  std::vector<std::string> startup_models;
  // Where uploaded model files go; empty: a fresh directory under the
  // system's temporary directory, removed with the manager.
  std::string upload_directory;
  UploadLimits upload_limits;
};

// What the load API may carry besides the model name.
struct LoadRequest {
  std::string config_json;                   // replaces config.pbtxt
  std::map<std::string, std::string> files;  // "<version>/<name>" -> bytes
};

class ModelManager {
 public:
  explicit ModelManager(ManagerOptions options);
  // Waits for loads in progress, then stops everything (StopAll).
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // The start-up load: every model (modes none and poll) or the ones
  // options.startup_models names (explicit) and the models their ensembles
  // need, in parallel on the load pool, ensembles after the models their
  // steps run; blocks until all are done. Fails only when a repository cannot
  // be scanned; per-model failures are in Index(). The models it tried are the
  // "required" ones (RequiredModelsReady).
  absl::Status LoadAll();

  // The repository API; refused (UNAVAILABLE, Triton's text) unless the
  // mode is explicit. Load (re)loads the model even when nothing changed, from
  // the repository, or with a config override, or from uploaded files (which
  // need the override). Blocks the caller until the load is done.
  absl::Status LoadFromApi(std::string_view model, const LoadRequest& request);
  // With `unload_dependents`, unloading an ensemble also unloads the models
  // its steps run that no other serving ensemble uses (Triton's meaning).
  // NOT_FOUND for a model it never knew; unloading an unloaded model
  // succeeds.
  absl::Status UnloadFromApi(std::string_view model, bool unload_dependents);

  // For the poller: (re)loads a model as scanned, on the load pool, blocking
  // the caller; and unloads a model gone from the repository.
  absl::Status ReloadScanned(const ScannedModel& model);
  void UnloadRemoved(const std::string& model);

  // What serves now; lock-free. Hold the returned map for as long as a
  // consistent view is needed (one request's lookups), no longer.
  std::shared_ptr<const ServingMap> Serving() const {
    return serving_.load(std::memory_order_acquire);
  }
  // Shorthands over Serving().
  absl::StatusOr<ModelHandle> Get(std::string_view model,
                                  int64_t version) const {
    return Serving()->Get(model, version);
  }
  std::vector<ModelHandle> AllReady() const { return Serving()->AllReady(); }

  // Every version the manager knows with its state; versions still
  // finishing requests after an unload or a switch show as UNLOADING.
  // Sorted by model, version. Reads memory only.
  std::vector<VersionStatus> Index() const;
  // The names of the models in the repositories now (scans the file
  // system), for an index that shows what could be loaded.
  std::vector<std::string> ListRepository() const;
  // True when every model the start-up load tried has a ready version.
  bool RequiredModelsReady() const;

  ModelControlMode control_mode() const { return options_.control_mode; }
  const std::vector<std::string>& repositories() const {
    return options_.repositories;
  }
  // Scans every repository (one listing pass per store), with each model's
  // fingerprint; for the poller.
  absl::StatusOr<RepositoryScan> ScanWithFingerprints() const {
    return ScanStores(options_.stores, /*fingerprints=*/true);
  }

  // Refuses loads from now on (UNAVAILABLE); loads in progress finish.
  void BeginShutdown() { shutting_down_.store(true); }
  // Stops every scheduler (queued requests still run) and drops the
  // handles; the versions are destroyed once their last request is done.
  void StopAll();

 private:
  struct VersionRecord {
    VersionState state = VersionState::kLoading;
    std::string reason;
    ModelHandle handle;
  };
  struct ModelRecord {
    // A model-level failure (config, scan, backend, a failed reload) or
    // why it has no versions ("unloaded").
    std::string problem;
    std::map<int64_t, VersionRecord> versions;
  };
  // A version dropped by a switch or an unload, alive while requests hold it.
  struct Retiring {
    std::string model;
    int64_t version;
    std::weak_ptr<ModelVersion> handle;
  };
  // What a load starts from. `model` may still be in its store (its
  // `listing` set); Install makes it local first.
  struct ModelSource {
    ScannedModel model;
    std::optional<inference::ModelConfig> config_override;
    std::shared_ptr<const void> files_owner;
  };
  struct LoadedVersion {
    int64_t version;
    absl::StatusOr<ModelHandle> handle;
  };

  // Runs on a pool thread: prepare, load, warm up, switch. With
  // `load_dependencies`, first loads the models it depends on (an
  // ensemble's steps) that do not serve yet; `chain` holds the models whose
  // dependencies are being loaded, so a cycle stops.
  absl::Status Install(const ModelSource& source, bool load_dependencies,
                       std::vector<std::string>* chain = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);
  void LoadDependencies(const ModelSource& source,
                        std::vector<std::string>* chain)
      ABSL_LOCKS_EXCLUDED(mu_);
  void MarkLoading(const std::string& model,
                   const std::vector<int64_t>& versions)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Switch(const std::string& model,
                      std::vector<LoadedVersion> loaded)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Unload(const std::string& model, const std::string& reason)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Drops a record's handles into retiring_; returns them to release
  // outside the lock.
  std::vector<ModelHandle> RetireLocked(const std::string& model,
                                        ModelRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds and publishes the ServingMap of models_.
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes a source's files local (downloads what an object store holds);
  // a failure is recorded for the model.
  absl::Status Localize(ModelSource& source) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ModelSource> SourceForApi(const std::string& model,
                                           const LoadRequest& request);
  // UNAVAILABLE unless the control mode is explicit.
  absl::Status ExplicitModeOnly(std::string_view action,
                                std::string_view model) const;
  std::shared_ptr<absl::Mutex> LoadLock(const std::string& model)
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetModelProblem(const std::string& model, const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_);
  void RecordPrepareFailure(const std::string& model,
                            const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& UploadRoot() ABSL_LOCKS_EXCLUDED(upload_mu_);

  ManagerOptions options_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<std::shared_ptr<const ServingMap>> serving_{
      std::make_shared<const ServingMap>()};

  mutable absl::Mutex mu_;
  std::map<std::string, ModelRecord, std::less<>> models_ ABSL_GUARDED_BY(mu_);
  std::vector<Retiring> retiring_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<absl::Mutex>> load_locks_
      ABSL_GUARDED_BY(mu_);
  std::set<std::string, std::less<>> required_ ABSL_GUARDED_BY(mu_);

  absl::Mutex upload_mu_;
  std::unique_ptr<OwnedDirectory> owned_upload_root_
      ABSL_GUARDED_BY(upload_mu_);

  // Last member: destroyed (joined) first, before what its tasks use.
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_MODEL_MANAGER_H_
