// ServerApi: the one facade frontends (HTTP, gRPC, tools) may call. It
// hides the model manager and schedulers. All methods are thread-safe and
// never block on model execution; Infer completes through the requester's
// InferCompletion.
//
// An inference is three calls, each cheap: Resolve finds the model version
// once (no lock), CheckAdmission refuses early under overload (before a
// frontend decodes a large body), and Infer queues the request on the
// version Resolve found.
#ifndef SERVAL_SERVER_SERVER_API_H_
#define SERVAL_SERVER_SERVER_API_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "config/model_spec.h"
#include "metrics/model_statistics.h"
#include "proto/model_config.pb.h"
#include "request/inference_request.h"
#include "tensor/datatype.h"
#include "tensor/shape.h"

namespace serval {

// The servable model version of the server core; frontends only carry it.
class ModelVersion;

// A model version resolved for one request: keeps the version alive from
// admission until the request is handed to Infer, and tells a frontend what
// it needs to decode (the declared inputs). Cheap to copy.
class ModelRef {
 public:
  ModelRef() = default;
  // For ServerApi implementations: `name` and `spec` must live as long as
  // `version` (test doubles pass a null version and their own storage).
  ModelRef(std::shared_ptr<ModelVersion> version, const std::string* name,
           int64_t number, const ModelSpec* spec)
      : version_(std::move(version)),
        name_(name),
        number_(number),
        spec_(spec) {}

  const std::string& name() const { return *name_; }
  int64_t version() const { return number_; }
  const ModelSpec& spec() const { return *spec_; }
  const std::shared_ptr<ModelVersion>& handle() const { return version_; }

 private:
  std::shared_ptr<ModelVersion> version_;
  const std::string* name_ = nullptr;
  int64_t number_ = -1;
  const ModelSpec* spec_ = nullptr;
};

struct ServerMetadata {
  std::string name;
  std::string version;
  std::vector<std::string> extensions;
};

struct TensorMetadata {
  std::string name;
  DataType datatype = DataType::kInvalid;
  // Full shape as clients send it: with a leading -1 batch dimension for
  // batching models; -1 for variable dims.
  Shape shape;
};

struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;  // ready versions, ascending
  std::string platform;               // e.g. "onnxruntime_onnx"
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
};

// One row of the repository index.
struct RepositoryEntry {
  std::string name;
  std::string version;  // empty when the model has no version to report
  std::string state;    // UNAVAILABLE, LOADING, READY, UNLOADING
  std::string reason;   // why it is not READY, when known
  // Resident memory the version added when it loaded (and warmed up), in
  // bytes; -1 when not measured. Approximate when loads overlap.
  int64_t memory_bytes = -1;
};

struct LoadOptions {
  // Optional config override as JSON (Triton: parameters.config).
  std::string config_json;
  // Files uploaded with the request: "<version>/<name>" -> bytes.
  std::map<std::string, std::string> files;
};

// A registered system shared-memory region (Triton's status fields).
struct SharedMemoryRegionStatus {
  std::string name;
  std::string key;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

// Bytes inside a registered region; `pin` keeps the region mapped while
// held (a request keeps it in InferenceRequest::keep_alive).
struct SharedMemoryView {
  char* data = nullptr;
  uint64_t size = 0;
  std::shared_ptr<const void> pin;
};

// Trace settings (Triton's trace extension), as Triton reports them.
struct TraceSettings {
  // {"OFF"}, or a subset of {"TIMESTAMPS", "TENSORS"} in that order.
  std::vector<std::string> level = {"OFF"};
  uint32_t rate = 1000;        // trace one request in `rate`
  int64_t count = -1;          // traces left to take; -1 = unlimited
  uint32_t log_frequency = 0;  // traces per numbered file; 0 = one file
  std::string file;
  std::string mode = "triton";
};

// One change of a trace setting: new `values` for `key` (trace_level takes
// several), or `clear` to fall back (a model to the global setting, the
// global setting to its start-up value).
struct TraceSettingUpdate {
  std::string key;
  bool clear = false;
  std::vector<std::string> values;
};

// Logging as it is now (Triton: GET /v2/logging). serval has one level;
// Triton's switches are views of it.
struct LogSettings {
  std::string level;        // trace, debug, info, warn, error or off
  std::string format;       // text or json; fixed at start-up
  bool access_log = false;  // one info line per inference request
  // Triton's view: which severities are logged, and verbosity (1 at debug
  // or trace, else 0).
  bool info = true;
  bool warning = true;
  bool error = true;
  uint32_t verbose_level = 0;
};

// A change of logging settings; unset fields stay. Triton's switches move
// the one level: info on lowers it to info at most, info off raises it to
// warn at least, and so on; verbose_level > 0 means debug.
struct LogSettingsUpdate {
  std::optional<std::string> level;
  std::optional<bool> access_log;
  std::optional<bool> info;
  std::optional<bool> warning;
  std::optional<bool> error;
  std::optional<uint32_t> verbose_level;
  // Accepted only when they change nothing: the format is fixed at
  // start-up, and a client may not choose where the server writes files.
  std::optional<std::string> format;
  std::optional<std::string> file;
};

class ServerApi {
 public:
  virtual ~ServerApi() = default;

  virtual bool IsLive() const = 0;
  // True once every model required at start-up is ready, false again once
  // shutdown begins.
  virtual bool IsReady() const = 0;
  virtual ServerMetadata GetServerMetadata() const = 0;

  // version -1 means the latest ready version. NOT_FOUND for an unknown
  // model or version.
  virtual absl::StatusOr<ModelMetadata> GetModelMetadata(
      std::string_view model, int64_t version) const = 0;
  virtual absl::StatusOr<bool> IsModelReady(std::string_view model,
                                            int64_t version) const = 0;
  virtual absl::StatusOr<inference::ModelConfig> GetModelConfig(
      std::string_view model, int64_t version) const = 0;
  // Empty model = every model; version -1 = every version of the model.
  virtual absl::StatusOr<std::vector<ModelStatistics>> GetModelStatistics(
      std::string_view model, int64_t version) const = 0;

  virtual std::vector<RepositoryEntry> GetRepositoryIndex(
      bool ready_only) const = 0;
  virtual absl::Status LoadModel(std::string_view model,
                                 const LoadOptions& options) = 0;
  virtual absl::Status UnloadModel(std::string_view model,
                                   bool unload_dependents) = 0;

  // The model version a request for (model, version) runs on; version -1
  // means the latest ready one. NOT_FOUND / UNAVAILABLE as for metadata.
  virtual absl::StatusOr<ModelRef> Resolve(std::string_view model,
                                           int64_t version) const = 0;

  // Cheap early refusal, before a frontend decodes a request body:
  // UNAVAILABLE when a request without priority for this model would be
  // refused as queue-full right now (counted as such); OK otherwise.
  virtual absl::Status CheckAdmission(const ModelRef& model) {
    return absl::OkStatus();
  }

  // Validates the request against `model` and queues it there.
  // done->OnInferComplete is called exactly once, with an error status for a
  // request that fails validation, is refused or fails in the backend; `done`
  // must stay alive until then. request.model_name and model_version are
  // taken from `model`.
  virtual void Infer(const ModelRef& model, InferenceRequest request,
                     InferCompletion* done) = 0;

  // System shared memory (Triton's extension; docs/http.md). Not pure so
  // that test doubles need not implement them. An empty name means every
  // region for Unregister and Status.
  virtual absl::Status RegisterSystemSharedMemory(std::string_view name,
                                                  std::string_view key,
                                                  uint64_t offset,
                                                  uint64_t byte_size) {
    return absl::UnimplementedError("shared memory is not available");
  }
  virtual absl::Status UnregisterSystemSharedMemory(std::string_view name) {
    return absl::UnimplementedError("shared memory is not available");
  }
  virtual absl::StatusOr<std::vector<SharedMemoryRegionStatus>>
  GetSystemSharedMemoryStatus(std::string_view name) const {
    return absl::UnimplementedError("shared memory is not available");
  }
  // [offset, offset + byte_size) of a registered region, for a request's
  // input or output.
  virtual absl::StatusOr<SharedMemoryView> MapSharedMemory(
      std::string_view region, uint64_t offset, uint64_t byte_size) const {
    return absl::UnimplementedError("shared memory is not available");
  }
  // CUDA shared memory: registering fails on a server without GPU memory to
  // share; status lists nothing and unregistering everything succeeds, as
  // Triton's CPU build answers (its clients clean up both kinds).
  virtual absl::Status RegisterCudaSharedMemory(std::string_view name) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to register CUDA shared memory region: '",
                     ToAbsl(name), "', GPUs not supported"));
  }
  virtual absl::Status UnregisterCudaSharedMemory(std::string_view name) {
    if (name.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("failed to unregister CUDA shared memory region: '",
                     ToAbsl(name), "', GPUs not supported"));
  }

  // Trace settings of `model` (empty: the global ones). NOT_FOUND for an
  // unknown model.
  virtual absl::StatusOr<TraceSettings> GetTraceSettings(
      std::string_view model) const {
    return absl::UnimplementedError("tracing is not available");
  }
  virtual absl::StatusOr<TraceSettings> UpdateTraceSettings(
      std::string_view model, const std::vector<TraceSettingUpdate>& updates) {
    return absl::UnimplementedError("tracing is not available");
  }

  // Run-time logging settings. Not pure so that test doubles need not
  // implement them; the real server overrides both. UpdateLogSettings
  // returns INVALID_ARGUMENT (changing nothing) for an unknown level, and
  // the settings now in force on success.
  virtual absl::StatusOr<LogSettings> GetLogSettings() const {
    return absl::UnimplementedError("logging settings are not available");
  }
  virtual absl::StatusOr<LogSettings> UpdateLogSettings(
      const LogSettingsUpdate& update) {
    return absl::UnimplementedError("logging settings are not available");
  }
};

}  // namespace serval

#endif  // SERVAL_SERVER_SERVER_API_H_
