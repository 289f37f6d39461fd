// Test double of ServerApi for the HTTP frontend's unit tests: one model
// "m" (input "a"), answers with canned metadata/stats, and either echoes
// inputs back as outputs named "<input>_out", fails, or holds the request
// for the test to complete. Thread-safe where the server tests need it.
#ifndef SERVAL_FRONTEND_HTTP_FAKE_SERVER_API_H_
#define SERVAL_FRONTEND_HTTP_FAKE_SERVER_API_H_

#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "server/server_api.h"

namespace serval::http {

class FakeServerApi : public ServerApi {
 public:
  enum class Mode { kEcho, kFail, kHold };

  FakeServerApi() {
    metadata.name = "m";
    metadata.versions = {"1"};
    metadata.platform = "identity";
    metadata.inputs = {{"a", DataType::kFp32, {-1, 2}}};
    metadata.outputs = {{"a_out", DataType::kFp32, {-1, 2}}};
    config.set_name("m");
    config.set_max_batch_size(8);
    spec.name = "m";
    spec.max_batch_size = 8;
    spec.inputs.push_back({"a", DataType::kFp32, {2}});
    spec.outputs.push_back({"a_out", DataType::kFp32, {2}});
  }

  bool IsLive() const override { return live; }
  bool IsReady() const override { return ready; }
  ServerMetadata GetServerMetadata() const override {
    return {"serval", "0.1.0", {"binary_tensor_data", "statistics"}};
  }
  absl::StatusOr<ModelMetadata> GetModelMetadata(
      std::string_view model, int64_t version) const override {
    if (absl::Status s = Check(model, version); !s.ok()) return s;
    return metadata;
  }
  absl::StatusOr<bool> IsModelReady(std::string_view model,
                                    int64_t version) const override {
    if (absl::Status s = Check(model, version); !s.ok()) return s;
    return model_ready;
  }
  absl::StatusOr<inference::ModelConfig> GetModelConfig(
      std::string_view model, int64_t version) const override {
    if (absl::Status s = Check(model, version); !s.ok()) return s;
    return config;
  }
  absl::StatusOr<std::vector<ModelStatistics>> GetModelStatistics(
      std::string_view model, int64_t version) const override {
    if (!model.empty()) {
      if (absl::Status s = Check(model, version); !s.ok()) return s;
    }
    return stats;
  }
  std::vector<RepositoryEntry> GetRepositoryIndex(
      bool ready_only) const override {
    std::lock_guard<std::mutex> lock(mu);
    last_ready_only = ready_only;
    return {{"m", "1", "READY", ""}, {"broken", "", "UNAVAILABLE", "bad"}};
  }
  absl::Status LoadModel(std::string_view model,
                         const LoadOptions& options) override {
    std::lock_guard<std::mutex> lock(mu);
    last_load_model = std::string(model);
    last_load = options;
    return load_status;
  }
  absl::Status UnloadModel(std::string_view model,
                           bool unload_dependents) override {
    std::lock_guard<std::mutex> lock(mu);
    last_load_model = std::string(model);
    last_unload_dependents = unload_dependents;
    return load_status;
  }

  absl::StatusOr<ModelRef> Resolve(std::string_view model,
                                   int64_t version) const override {
    if (absl::Status s = Check(model, version); !s.ok()) return s;
    return ModelRef(nullptr, &spec.name, 1, &spec);
  }
  absl::Status CheckAdmission(const ModelRef& model) override {
    std::lock_guard<std::mutex> lock(mu);
    return admission;
  }

  void Infer(const ModelRef& model, InferenceRequest request,
             InferCompletion* done) override {
    std::unique_lock<std::mutex> lock(mu);
    request.model_name = model.name();
    request.model_version = model.version();
    // What the tests read of it; the tensor bytes stay with `request`.
    last_request = InferenceRequest();
    last_request.model_name = request.model_name;
    last_request.model_version = request.model_version;
    last_request.id = request.id;
    last_request.priority = request.priority;
    last_request.timeout_us = request.timeout_us;
    last_request.requested_outputs = request.requested_outputs;
    last_request.cancellation = request.cancellation;
    ++infer_calls;
    if (mode == Mode::kHold) {
      held_request = std::move(request);
      held = done;
      return;
    }
    const Mode m = mode;
    const absl::Status fail = fail_status;
    lock.unlock();
    if (m == Mode::kFail) {
      InferenceResponse r;
      r.status = fail;
      done->OnInferComplete(std::move(r));
      return;
    }
    done->OnInferComplete(Echo(request));
  }

  static InferenceResponse Echo(const InferenceRequest& request) {
    InferenceResponse r;
    r.model_name = request.model_name;
    r.model_version = request.model_version < 0 ? 1 : request.model_version;
    r.id = request.id;
    for (const TensorView& in : request.inputs) {
      OutputTensor out;
      out.name = in.name + "_out";
      if (!request.requested_outputs.empty() &&
          std::find(request.requested_outputs.begin(),
                    request.requested_outputs.end(),
                    out.name) == request.requested_outputs.end()) {
        continue;
      }
      out.datatype = in.datatype;
      out.shape = in.shape;
      out.data.Resize(in.byte_size);
      if (in.byte_size > 0) std::memcpy(out.data.data(), in.data, in.byte_size);
      r.outputs.push_back(std::move(out));
    }
    return r;
  }

  // Shared memory: a list of registrations (no mapping).
  absl::Status RegisterSystemSharedMemory(std::string_view name,
                                          std::string_view key, uint64_t offset,
                                          uint64_t byte_size) override {
    std::lock_guard<std::mutex> lock(mu);
    regions.push_back({std::string(name), std::string(key), offset, byte_size});
    return absl::OkStatus();
  }
  absl::Status UnregisterSystemSharedMemory(std::string_view name) override {
    std::lock_guard<std::mutex> lock(mu);
    std::erase_if(regions, [&](const SharedMemoryRegionStatus& r) {
      return name.empty() || r.name == name;
    });
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>>
  GetSystemSharedMemoryStatus(std::string_view name) const override {
    std::lock_guard<std::mutex> lock(mu);
    if (name.empty()) return regions;
    for (const auto& r : regions) {
      if (r.name == name) return std::vector<SharedMemoryRegionStatus>{r};
    }
    return absl::NotFoundError("Unable to find system shared memory region");
  }

  // Tracing: settings as stored; updates recorded.
  absl::StatusOr<TraceSettings> GetTraceSettings(
      std::string_view model) const override {
    if (!model.empty()) {
      if (absl::Status s = Check(model, -1); !s.ok()) return s;
    }
    return trace;
  }
  absl::StatusOr<TraceSettings> UpdateTraceSettings(
      std::string_view model,
      const std::vector<TraceSettingUpdate>& updates) override {
    std::lock_guard<std::mutex> lock(mu);
    last_trace_updates = updates;
    return trace;
  }

  // Completes a held request with an echo; false when none is held.
  bool CompleteHeld() {
    InferCompletion* done = nullptr;
    std::optional<InferenceRequest> request;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (held == nullptr) return false;
      done = held;
      held = nullptr;
      request = std::move(held_request);
    }
    done->OnInferComplete(Echo(*request));
    return true;
  }

  bool HeldIsCancelled() {
    std::lock_guard<std::mutex> lock(mu);
    return held_request && held_request->cancellation &&
           held_request->cancellation->IsCancelled();
  }

  // Plain fields: set them before the test sends requests.
  bool live = true;
  bool ready = true;
  bool model_ready = true;
  ModelMetadata metadata;
  inference::ModelConfig config;
  ModelSpec spec;
  absl::Status admission;
  std::vector<ModelStatistics> stats;
  absl::Status load_status;
  Mode mode = Mode::kEcho;
  absl::Status fail_status =
      absl::UnavailableError("queue of model 'm' is full");

  mutable std::mutex mu;
  mutable bool last_ready_only = false;
  std::string last_load_model;
  LoadOptions last_load;
  bool last_unload_dependents = false;
  InferenceRequest last_request;
  int infer_calls = 0;
  std::optional<InferenceRequest> held_request;
  InferCompletion* held = nullptr;
  std::vector<SharedMemoryRegionStatus> regions;
  TraceSettings trace;
  std::vector<TraceSettingUpdate> last_trace_updates;

 private:
  absl::Status Check(std::string_view model, int64_t version) const {
    if (model != "m") {
      return absl::NotFoundError(
          absl::StrCat("unknown model '", ToAbsl(model), "'"));
    }
    if (version != -1 && version != 1) {
      return absl::NotFoundError(
          absl::StrCat("model 'm' has no version ", version));
    }
    return absl::OkStatus();
  }
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_FAKE_SERVER_API_H_
