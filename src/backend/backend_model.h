// A model version loaded by a backend plugin (its weights, loaded once) and
// the execution instances that share it. BackendModel is created and
// destroyed on load threads; each BackendInstance is driven by one worker
// thread (Execute is not reentrant for one instance). Instances hold a
// shared_ptr to their model, which holds its library.
#ifndef SERVAL_BACKEND_BACKEND_MODEL_H_
#define SERVAL_BACKEND_BACKEND_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backend/backend_library.h"
#include "config/model_spec.h"
#include "proto/model_config.pb.h"
#include "serval/backend.h"

namespace serval {

class HostBatch;

struct BackendModelOptions {
  std::string name;
  int64_t version = 1;
  std::string version_path;
  std::string model_file;
  inference::ModelConfig config;
  uint32_t instance_count = 1;
};

class BackendModel : public std::enable_shared_from_this<BackendModel> {
 public:
  static absl::StatusOr<std::shared_ptr<BackendModel>> Create(
      std::shared_ptr<BackendLibrary> library, BackendModelOptions options);
  ~BackendModel();
  BackendModel(const BackendModel&) = delete;
  BackendModel& operator=(const BackendModel&) = delete;

  // Creates an execution context sharing this model's weights.
  absl::StatusOr<std::unique_ptr<class BackendInstance>> CreateInstance(
      ServalInstanceKind kind, int32_t device_id, uint32_t index);

  const ModelSpec& io() const { return io_; }
  const BackendModelOptions& options() const { return options_; }
  const BackendLibrary& library() const { return *library_; }

 private:
  BackendModel(std::shared_ptr<BackendLibrary> library,
               BackendModelOptions options, ModelSpec io);

  std::shared_ptr<BackendLibrary> library_;
  BackendModelOptions options_;
  ModelSpec io_;
  ServalModelState* state_ = nullptr;
};

class BackendInstance {
 public:
  ~BackendInstance();
  BackendInstance(const BackendInstance&) = delete;
  BackendInstance& operator=(const BackendInstance&) = delete;

  // Hands the batch to the plugin, which completes it exactly once.
  void Execute(HostBatch* batch);

  const BackendModel& model() const { return *model_; }
  ServalInstanceKind kind() const { return kind_; }
  int32_t device_id() const { return device_id_; }
  uint32_t index() const { return index_; }

 private:
  friend class BackendModel;
  BackendInstance(std::shared_ptr<BackendModel> model,
                  ServalInstanceState* state, ServalInstanceKind kind,
                  int32_t device_id, uint32_t index);

  std::shared_ptr<BackendModel> model_;
  ServalInstanceState* state_;
  ServalInstanceKind kind_;
  int32_t device_id_;
  uint32_t index_;
};

// Asks the plugin to fill in what it can read from the model file; returns
// its JSON (Triton field names), or an empty string when the plugin has no
// auto-complete.
absl::StatusOr<std::string> AutocompleteFromBackend(
    const BackendLibrary& library, const std::string& model_file,
    const inference::ModelConfig& partial);

}  // namespace serval

#endif  // SERVAL_BACKEND_BACKEND_MODEL_H_
