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

InferenceService::InferenceService(ServerApi* server, Executor* blocking)
    : server_(server), blocking_(blocking) {
  SetMessageAllocatorFor_ModelInfer(&infer_allocator_);
}

grpc::ServerUnaryReactor* InferenceService::ServerLive(
    grpc::CallbackServerContext* context,
    const inference::ServerLiveRequest* request,
    inference::ServerLiveResponse* response) {
  response->set_live(server_->IsLive());
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(
    grpc::CallbackServerContext* context,
    const inference::ServerReadyRequest* request,
    inference::ServerReadyResponse* response) {
  response->set_ready(server_->IsReady());
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(
    grpc::CallbackServerContext* context,
    const inference::ModelReadyRequest* request,
    inference::ModelReadyResponse* response) {
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
  return StartModelInfer(server_, context, request, response);
}

grpc::ServerBidiReactor<inference::ModelInferRequest,
                        inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(grpc::CallbackServerContext* context) {
  return StartModelStreamInfer(server_, context);
}

grpc::ServerUnaryReactor* InferenceService::ModelConfig(
    grpc::CallbackServerContext* context,
    const inference::ModelConfigRequest* request,
    inference::ModelConfigResponse* response) {
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
  // repository_name is not consulted: serval indexes every repository it
  // serves as one.
  FillRepositoryIndex(server_->GetRepositoryIndex(request->ready()), response);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    grpc::CallbackServerContext* context,
    const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse* response) {
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

}  // namespace serval
