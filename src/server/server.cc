#include "server/server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/logging.h"
#include "scheduler/pending_request.h"
#include "server/request_validator.h"

namespace serval {
namespace {

void LogFailure(const InferenceResponse& r) {
  const auto code = r.status.code();
  const auto level = (code == absl::StatusCode::kInternal ||
                      code == absl::StatusCode::kUnknown)
                         ? spdlog::level::err
                         : spdlog::level::debug;
  LogForRequest(level, r.id,
                absl::StrCat("model '", r.model_name, "' failed: ",
                             r.status.ToString()));
}

void Fail(InferenceRequest& request, int64_t version, absl::Status status,
          InferCallback& done) {
  InferenceResponse r;
  r.status = std::move(status);
  r.model_name = std::move(request.model_name);
  r.model_version = version;
  r.id = std::move(request.id);
  LogFailure(r);
  done(std::move(r));
}

}  // namespace

Server::Server(ModelManager* manager) : manager_(manager) {}

std::string Server::NextRequestId() {
  return absl::StrCat("serval-", request_counter_.fetch_add(1) + 1);
}

ServerMetadata Server::GetServerMetadata() const {
  ServerMetadata m;
  m.name = kServerName;
  m.version = kServerVersion;
  m.extensions = {"binary_tensor_data", "model_configuration", "statistics",
                  "model_repository", "schedule_policy"};
  return m;
}

absl::StatusOr<ModelMetadata> Server::GetModelMetadata(std::string_view model,
                                                       int64_t version) const {
  auto handle = manager_->Get(model, version);
  if (!handle.ok()) return handle.status();
  auto versions = manager_->ReadyVersions(model);
  ModelMetadata m;
  m.name = (*handle)->name();
  if (versions.ok()) {
    for (const auto& v : *versions) m.versions.push_back(v->version_string());
  }
  m.platform = (*handle)->backend().platform;
  const ModelIo& io = (*handle)->io();
  for (size_t i = 0; i < io.inputs.size(); ++i) {
    m.inputs.push_back({io.inputs[i].name, io.inputs[i].datatype,
                        io.FullInputShape(i)});
  }
  for (size_t i = 0; i < io.outputs.size(); ++i) {
    m.outputs.push_back({io.outputs[i].name, io.outputs[i].datatype,
                         io.FullOutputShape(i)});
  }
  return m;
}

absl::StatusOr<bool> Server::IsModelReady(std::string_view model,
                                          int64_t version) const {
  auto versions = manager_->ReadyVersions(model);
  if (!versions.ok()) return versions.status();
  return manager_->Get(model, version).ok();
}

absl::StatusOr<inference::ModelConfig> Server::GetModelConfig(
    std::string_view model, int64_t version) const {
  auto handle = manager_->Get(model, version);
  if (!handle.ok()) return handle.status();
  return (*handle)->config();
}

absl::StatusOr<std::vector<ModelStatistics>> Server::GetModelStatistics(
    std::string_view model, int64_t version) const {
  std::vector<ModelHandle> handles;
  if (model.empty()) {
    handles = manager_->AllReady();
  } else if (version >= 0) {
    auto h = manager_->Get(model, version);
    if (!h.ok()) return h.status();
    handles.push_back(std::move(*h));
  } else {
    auto hs = manager_->ReadyVersions(model);
    if (!hs.ok()) return hs.status();
    handles = std::move(*hs);
  }
  std::vector<ModelStatistics> out;
  for (const auto& h : handles) {
    out.push_back(h->stats().Snapshot(h->name(), h->version_string()));
  }
  return out;
}

std::vector<RepositoryEntry> Server::GetRepositoryIndex(bool ready_only) const {
  std::vector<RepositoryEntry> out;
  for (const auto& s : manager_->Index()) {
    if (ready_only && s.state != VersionState::kReady) continue;
    out.push_back({s.model, s.version >= 0 ? std::to_string(s.version) : "",
                   std::string(VersionStateName(s.state)), s.reason});
  }
  return out;
}

absl::Status Server::LoadModel(std::string_view model, const LoadOptions&) {
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot load model '", ToAbsl(model),
      "': loading and unloading through the API is not enabled on this "
      "server (model control mode 'none')"));
}

absl::Status Server::UnloadModel(std::string_view model, bool) {
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot unload model '", ToAbsl(model),
      "': loading and unloading through the API is not enabled on this "
      "server (model control mode 'none')"));
}

void Server::Infer(InferenceRequest request, InferCallback done) {
  if (request.id.empty()) request.id = NextRequestId();
  auto handle = manager_->Get(request.model_name, request.model_version);
  if (!handle.ok()) {
    Fail(request, request.model_version, handle.status(), done);
    return;
  }
  ModelVersion& version = **handle;
  auto validated = ValidateRequest(version.name(), version.io(), request);
  if (!validated.ok()) {
    Fail(request, version.version(), validated.status(), done);
    return;
  }
  auto pending = std::make_unique<PendingRequest>();
  pending->inputs = std::move(validated->inputs);
  pending->batch_size = validated->batch_size;
  pending->response.model_name = version.name();
  pending->response.model_version = version.version();
  pending->response.id = request.id;
  pending->request = std::move(request);
  // The handle rides with the request: the version outlives its requests.
  pending->done = [handle = *handle, done = std::move(done)](
                      InferenceResponse response) mutable {
    if (!response.status.ok()) LogFailure(response);
    done(std::move(response));
  };
  version.scheduler().Enqueue(std::move(pending));
}

}  // namespace serval
