#include "frontend/grpc/inference_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "frontend/grpc/grpc_status.h"
#include "frontend/grpc/infer_codec.h"
#include "frontend/grpc/model_messages.h"
#include "frontend/grpc/stream_infer_reactor.h"

namespace serval {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Parses (name, version) as the model RPCs send them.
absl::StatusOr<int64_t> ModelVersionOf(const std::string& name,
                                       const std::string& version) {
  if (name.empty()) {
    return absl::InvalidArgumentError("model name is required");
  }
  absl::StatusOr<int64_t> v = ParseModelVersion(version);
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': ", v.status().message()));
  }
  return v;
}

}  // namespace

// A stream refused before it starts: finishes at once, deletes itself
// when gRPC is done with it.
class RefusedStream final
    : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                     inference::ModelStreamInferResponse> {
 public:
  explicit RefusedStream(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

absl::Status InferenceService::AccessStatus(
    grpc::CallbackServerContext* context, ApiGroup group) const {
  // Open groups (the default) cost no lookup.
  if (access_ == nullptr || !access_->restricts(group)) {
    return absl::OkStatus();
  }
  const auto& metadata = context->client_metadata();
  const AccessPolicy::HeaderLookup lookup =
      [&metadata](std::string_view key) -> std::optional<std::string_view> {
    auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
    if (it == metadata.end()) return std::nullopt;
    return std::string_view(it->second.data(), it->second.size());
  };
  return access_->Authorize(group, lookup);
}

grpc::ServerUnaryReactor* InferenceService::Refuse(
    grpc::CallbackServerContext* context, ApiGroup group) const {
  const absl::Status status = AccessStatus(context, group);
  return status.ok() ? nullptr : FinishNow(context, status);
}

InferenceService::InferenceService(ServerApi* server, Executor* blocking,
                                   const AccessPolicy* access)
    : server_(server), blocking_(blocking), access_(access) {
  SetMessageAllocatorFor_ModelInfer(&infer_allocator_);
}

grpc::ServerUnaryReactor* InferenceService::ServerLive(
    grpc::CallbackServerContext* context,
    const inference::ServerLiveRequest* request,
    inference::ServerLiveResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kHealth)) return refused;
  response->set_live(server_->IsLive());
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(
    grpc::CallbackServerContext* context,
    const inference::ServerReadyRequest* request,
    inference::ServerReadyResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kHealth)) return refused;
  response->set_ready(server_->IsReady());
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(
    grpc::CallbackServerContext* context,
    const inference::ModelReadyRequest* request,
    inference::ModelReadyResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kHealth)) return refused;
  absl::StatusOr<int64_t> version =
      ModelVersionOf(request->name(), request->version());
  if (!version.ok()) return FinishNow(context, version.status());
  absl::StatusOr<bool> ready = server_->IsModelReady(request->name(), *version);
  if (!ready.ok()) return FinishNow(context, ready.status());
  response->set_ready(*ready);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    grpc::CallbackServerContext* context,
    const inference::ServerMetadataRequest* request,
    inference::ServerMetadataResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kMetadata)) return refused;
  serval::ServerMetadata metadata = server_->GetServerMetadata();
  response->set_name(metadata.name);
  response->set_version(metadata.version);
  for (const std::string& e : metadata.extensions) response->add_extensions(e);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    grpc::CallbackServerContext* context,
    const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kMetadata)) return refused;
  absl::StatusOr<int64_t> version =
      ModelVersionOf(request->name(), request->version());
  if (!version.ok()) return FinishNow(context, version.status());
  absl::StatusOr<serval::ModelMetadata> metadata =
      server_->GetModelMetadata(request->name(), *version);
  if (!metadata.ok()) return FinishNow(context, metadata.status());
  FillModelMetadata(*metadata, response);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelInfer(
    grpc::CallbackServerContext* context,
    const inference::ModelInferRequest* request,
    inference::ModelInferResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kInference)) return refused;
  return StartModelInfer(server_, context, request, response);
}

grpc::ServerBidiReactor<inference::ModelInferRequest,
                        inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(grpc::CallbackServerContext* context) {
  if (absl::Status refused = AccessStatus(context, ApiGroup::kInference);
      !refused.ok()) {
    return new RefusedStream(ToGrpcStatus(refused));
  }
  return StartModelStreamInfer(server_, context);
}

grpc::ServerUnaryReactor* InferenceService::ModelConfig(
    grpc::CallbackServerContext* context,
    const inference::ModelConfigRequest* request,
    inference::ModelConfigResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kModelConfig)) return refused;
  absl::StatusOr<int64_t> version =
      ModelVersionOf(request->name(), request->version());
  if (!version.ok()) return FinishNow(context, version.status());
  absl::StatusOr<inference::ModelConfig> config =
      server_->GetModelConfig(request->name(), *version);
  if (!config.ok()) return FinishNow(context, config.status());
  *response->mutable_config() = *std::move(config);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelStatistics(
    grpc::CallbackServerContext* context,
    const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kStatistics)) return refused;
  int64_t version = -1;
  if (!request->name().empty()) {
    absl::StatusOr<int64_t> v =
        ModelVersionOf(request->name(), request->version());
    if (!v.ok()) return FinishNow(context, v.status());
    version = *v;
  } else if (!request->version().empty()) {
    return FinishNow(context, absl::InvalidArgumentError(
                                  "a statistics version needs a model name"));
  }
  absl::StatusOr<std::vector<serval::ModelStatistics>> stats =
      server_->GetModelStatistics(request->name(), version);
  if (!stats.ok()) return FinishNow(context, stats.status());
  FillModelStatistics(*stats, response);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::RepositoryIndex(
    grpc::CallbackServerContext* context,
    const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kModelRepository))
    return refused;
  // repository_name is not consulted: serval indexes every repository it
  // serves as one.
  FillRepositoryIndex(server_->GetRepositoryIndex(request->ready()), response);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    grpc::CallbackServerContext* context,
    const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kModelRepository))
    return refused;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->model_name().empty()) {
    reactor->Finish(
        ToGrpcStatus(absl::InvalidArgumentError("model_name is required")));
    return reactor;
  }
  absl::StatusOr<LoadOptions> options = ReadLoadOptions(*request);
  if (!options.ok()) {
    reactor->Finish(ToGrpcStatus(options.status()));
    return reactor;
  }
  // Loading can take seconds: it runs on the blocking executor. `request`
  // stays valid until Finish.
  blocking_->Post([this, reactor, request, opts = *std::move(options)] {
    reactor->Finish(
        ToGrpcStatus(server_->LoadModel(request->model_name(), opts)));
  });
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelUnload(
    grpc::CallbackServerContext* context,
    const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kModelRepository))
    return refused;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->model_name().empty()) {
    reactor->Finish(
        ToGrpcStatus(absl::InvalidArgumentError("model_name is required")));
    return reactor;
  }
  absl::StatusOr<bool> dependents = ReadUnloadDependents(*request);
  if (!dependents.ok()) {
    reactor->Finish(ToGrpcStatus(dependents.status()));
    return reactor;
  }
  blocking_->Post([this, reactor, request, dependents = *dependents] {
    reactor->Finish(
        ToGrpcStatus(server_->UnloadModel(request->model_name(), dependents)));
  });
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryStatus(
    grpc::CallbackServerContext* context,
    const inference::SystemSharedMemoryStatusRequest* request,
    inference::SystemSharedMemoryStatusResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kSharedMemory)) return refused;
  auto regions = server_->GetSystemSharedMemoryStatus(request->name());
  if (!regions.ok()) return FinishNow(context, regions.status());
  for (const SharedMemoryRegionStatus& r : *regions) {
    auto& out = (*response->mutable_regions())[r.name];
    out.set_name(r.name);
    out.set_key(r.key);
    out.set_offset(r.offset);
    out.set_byte_size(r.byte_size);
  }
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryRegister(
    grpc::CallbackServerContext* context,
    const inference::SystemSharedMemoryRegisterRequest* request,
    inference::SystemSharedMemoryRegisterResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kSharedMemory)) return refused;
  return FinishNow(context, server_->RegisterSystemSharedMemory(
                                request->name(), request->key(),
                                request->offset(), request->byte_size()));
}

grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryUnregister(
    grpc::CallbackServerContext* context,
    const inference::SystemSharedMemoryUnregisterRequest* request,
    inference::SystemSharedMemoryUnregisterResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kSharedMemory)) return refused;
  return FinishNow(context,
                   server_->UnregisterSystemSharedMemory(request->name()));
}

grpc::ServerUnaryReactor* InferenceService::CudaSharedMemoryStatus(
    grpc::CallbackServerContext* context,
    const inference::CudaSharedMemoryStatusRequest* request,
    inference::CudaSharedMemoryStatusResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kSharedMemory)) return refused;
  // No GPU memory to share: no regions.
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::CudaSharedMemoryRegister(
    grpc::CallbackServerContext* context,
    const inference::CudaSharedMemoryRegisterRequest* request,
    inference::CudaSharedMemoryRegisterResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kSharedMemory)) return refused;
  return FinishNow(context, server_->RegisterCudaSharedMemory(request->name()));
}

grpc::ServerUnaryReactor* InferenceService::CudaSharedMemoryUnregister(
    grpc::CallbackServerContext* context,
    const inference::CudaSharedMemoryUnregisterRequest* request,
    inference::CudaSharedMemoryUnregisterResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kSharedMemory)) return refused;
  return FinishNow(context,
                   server_->UnregisterCudaSharedMemory(request->name()));
}

grpc::ServerUnaryReactor* InferenceService::TraceSetting(
    grpc::CallbackServerContext* context,
    const inference::TraceSettingRequest* request,
    inference::TraceSettingResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kTrace)) return refused;
  absl::StatusOr<TraceSettings> settings;
  if (request->settings().empty()) {
    settings = server_->GetTraceSettings(request->model_name());
  } else {
    std::vector<TraceSettingUpdate> updates;
    for (const auto& [key, value] : request->settings()) {
      TraceSettingUpdate u;
      u.key = key;
      u.clear = value.value().empty();
      u.values.assign(value.value().begin(), value.value().end());
      updates.push_back(std::move(u));
    }
    settings = server_->UpdateTraceSettings(request->model_name(), updates);
  }
  if (!settings.ok()) return FinishNow(context, settings.status());
  auto& out = *response->mutable_settings();
  for (const std::string& l : settings->level) out["trace_level"].add_value(l);
  out["trace_rate"].add_value(absl::StrCat(settings->rate));
  out["trace_count"].add_value(absl::StrCat(settings->count));
  out["log_frequency"].add_value(absl::StrCat(settings->log_frequency));
  out["trace_file"].add_value(settings->file);
  out["trace_mode"].add_value(settings->mode);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::LogSettings(
    grpc::CallbackServerContext* context,
    const inference::LogSettingsRequest* request,
    inference::LogSettingsResponse* response) {
  if (auto* refused = Refuse(context, ApiGroup::kLogging)) return refused;
  using Value = inference::LogSettingsRequest::SettingValue;
  absl::StatusOr<serval::LogSettings> settings;
  if (request->settings().empty()) {
    settings = server_->GetLogSettings();
  } else {
    LogSettingsUpdate update;
    absl::Status bad;
    auto want = [&](const std::string& key, const Value& v,
                    Value::ParameterChoiceCase c, const char* type) {
      if (v.parameter_choice_case() == c) return true;
      bad = absl::InvalidArgumentError(
          absl::StrCat("log setting '", key, "' must be a ", type));
      return false;
    };
    for (const auto& [key, v] : request->settings()) {
      if (key == "log_info" || key == "log_warning" || key == "log_error" ||
          key == "log_access") {
        if (!want(key, v, Value::kBoolParam, "bool_param")) break;
        (key == "log_info"      ? update.info
         : key == "log_warning" ? update.warning
         : key == "log_error"   ? update.error
                                : update.access_log) = v.bool_param();
      } else if (key == "log_verbose_level") {
        if (!want(key, v, Value::kUint32Param, "uint32_param")) break;
        update.verbose_level = v.uint32_param();
      } else if (key == "log_level" || key == "log_format" ||
                 key == "log_file") {
        if (!want(key, v, Value::kStringParam, "string_param")) break;
        (key == "log_level"    ? update.level
         : key == "log_format" ? update.format
                               : update.file) = v.string_param();
      } else {
        bad = absl::InvalidArgumentError(absl::StrCat(
            "unsupported log setting '", key,
            "'; expected log_info, log_warning, log_error, log_verbose_level, "
            "log_format, log_file, log_level or log_access"));
        break;
      }
    }
    if (!bad.ok()) return FinishNow(context, bad);
    settings = server_->UpdateLogSettings(update);
  }
  if (!settings.ok()) return FinishNow(context, settings.status());
  auto& out = *response->mutable_settings();
  out["log_file"].set_string_param("");
  out["log_info"].set_bool_param(settings->info);
  out["log_warning"].set_bool_param(settings->warning);
  out["log_error"].set_bool_param(settings->error);
  out["log_verbose_level"].set_uint32_param(settings->verbose_level);
  out["log_format"].set_string_param(settings->format);
  out["log_level"].set_string_param(settings->level);
  out["log_access"].set_bool_param(settings->access_log);
  return FinishNow(context, absl::OkStatus());
}

}  // namespace serval
