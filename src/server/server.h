// Server: the ServerApi implementation over the model manager. It resolves
// model versions through the manager's published ServingMap, validates
// requests and hands them to the version's scheduler; as the requests'
// RequestOwner it gets each back when it is done, logs it and delivers the
// response to the requester's completion, holding the version until then.
// Thread-safe.
#ifndef SERVAL_SERVER_SERVER_H_
#define SERVAL_SERVER_SERVER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "ensemble/step_dispatcher.h"
#include "lifecycle/model_manager.h"
#include "scheduler/pending_request.h"
#include "server/path_redactor.h"
#include "server/server_api.h"
#include "server/shared_memory.h"
#include "server/trace.h"

namespace serval {

inline constexpr char kServerName[] = "serval";
inline constexpr char kServerVersion[] = "0.1.0";

struct ServerOptions {
  // The name server metadata reports (serve --server-name).
  std::string name = kServerName;
  // Tracing at start-up (serve --trace-config); off by default.
  TraceSettings trace;
  // Ready only while every model loaded at start-up has a ready version
  // (not only once start-up loading is over). See docs/lifecycle.md.
  bool strict_readiness = false;
  // Directories whose paths never reach a client, with the placeholder
  // shown instead (the model repositories are always among them).
  std::vector<std::pair<std::string, std::string>> private_directories;
};

class Server final : public ServerApi,
                     public StepDispatcher,
                     private RequestOwner {
 public:
  explicit Server(ModelManager* manager, ServerOptions options = {});

  // Readiness: set once start-up loading is done, cleared at shutdown.
  void SetReady(bool ready) { ready_.store(ready); }

  // Shutdown, first step: not ready any more, new inference requests and
  // loads are refused with UNAVAILABLE; requests already admitted go on.
  void BeginShutdown();
  // Waits until no admitted request is in flight, or `timeout` passed.
  // Returns how many are still in flight.
  size_t WaitForDrain(std::chrono::milliseconds timeout) const;
  size_t InFlight() const { return in_flight_.load(); }

  bool IsLive() const override { return true; }
  bool IsReady() const override;
  ServerMetadata GetServerMetadata() const override;
  absl::StatusOr<ModelMetadata> GetModelMetadata(
      std::string_view model, int64_t version) const override;
  absl::StatusOr<bool> IsModelReady(std::string_view model,
                                    int64_t version) const override;
  absl::StatusOr<inference::ModelConfig> GetModelConfig(
      std::string_view model, int64_t version) const override;
  absl::StatusOr<std::vector<ModelStatistics>> GetModelStatistics(
      std::string_view model, int64_t version) const override;
  std::vector<RepositoryEntry> GetRepositoryIndex(
      bool ready_only) const override;
  absl::Status LoadModel(std::string_view model,
                         const LoadOptions& options) override;
  absl::Status UnloadModel(std::string_view model,
                           bool unload_dependents) override;
  absl::StatusOr<ModelRef> Resolve(std::string_view model,
                                   int64_t version) const override;
  absl::Status CheckAdmission(const ModelRef& model) override;
  void Infer(const ModelRef& model, InferenceRequest request,
             InferCompletion* done) override;
  absl::Status RegisterSystemSharedMemory(std::string_view name,
                                          std::string_view key, uint64_t offset,
                                          uint64_t byte_size) override;
  absl::Status UnregisterSystemSharedMemory(std::string_view name) override;
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>>
  GetSystemSharedMemoryStatus(std::string_view name) const override;
  absl::StatusOr<SharedMemoryView> MapSharedMemory(
      std::string_view region, uint64_t offset,
      uint64_t byte_size) const override;
  absl::StatusOr<TraceSettings> GetTraceSettings(
      std::string_view model) const override;
  absl::StatusOr<TraceSettings> UpdateTraceSettings(
      std::string_view model,
      const std::vector<TraceSettingUpdate>& updates) override;
  absl::StatusOr<LogSettings> GetLogSettings() const override;
  absl::StatusOr<LogSettings> UpdateLogSettings(
      const LogSettingsUpdate& update) override;

  // StepDispatcher: an ensemble's steps are requests like any other.
  absl::StatusOr<ModelSpec> StepSpec(std::string_view model,
                                     int64_t version) const override;
  void InferStep(std::string_view model, int64_t version,
                 InferenceRequest request, InferCompletion* done) override;

 private:
  void Submit(const ModelRef& model, InferenceRequest request,
              InferCompletion* done, bool step);
  std::string NextRequestId();
  // RequestOwner: every request Infer queued (or refused) ends here.
  void Complete(PendingPtr request) override;

  ModelManager* manager_;
  const ServerOptions options_;
  const PathRedactor redactor_;
  SystemSharedMemory shared_memory_;
  TraceManager tracer_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> shutting_down_{false};
  // Requests admitted by Infer and not yet answered.
  std::atomic<size_t> in_flight_{0};
  std::atomic<uint64_t> request_counter_{0};
};

}  // namespace serval

#endif  // SERVAL_SERVER_SERVER_H_
