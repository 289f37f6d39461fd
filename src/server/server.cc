#include "server/server.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/clock.h"
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

Server::Server(ModelManager* manager, ServerOptions options)
    : manager_(manager), options_(options) {}

bool Server::IsReady() const {
  if (!ready_.load() || shutting_down_.load()) return false;
  return !options_.strict_readiness || manager_->RequiredModelsReady();
}

void Server::BeginShutdown() {
  shutting_down_.store(true);
  manager_->BeginShutdown();
}

size_t Server::WaitForDrain(std::chrono::milliseconds timeout) const {
  // Polled rather than signalled: it keeps the request path free of locks.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return in_flight_.load();
}

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
  const ModelSpec& io = (*handle)->io();
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
    out.back().memory_bytes = h->load_memory_bytes();
  }
  return out;
}

std::vector<RepositoryEntry> Server::GetRepositoryIndex(bool ready_only) const {
  std::vector<RepositoryEntry> out;
  for (const auto& s : manager_->Index()) {
    if (ready_only && s.state != VersionState::kReady) continue;
    out.push_back({s.model, s.version >= 0 ? std::to_string(s.version) : "",
                   std::string(VersionStateName(s.state)), s.reason,
                   s.memory_bytes});
  }
  return out;
}

absl::Status Server::LoadModel(std::string_view model,
                               const LoadOptions& options) {
  if (shutting_down_.load()) {
    return absl::UnavailableError(
        absl::StrCat("cannot load model '", ToAbsl(model),
                     "': the server is shutting down"));
  }
  LoadRequest request;
  request.config_json = options.config_json;
  request.files = options.files;
  return manager_->LoadFromApi(model, request);
}

absl::Status Server::UnloadModel(std::string_view model,
                                 bool unload_dependents) {
  return manager_->UnloadFromApi(model, unload_dependents);
}

absl::Status Server::CheckAdmission(std::string_view model, int64_t version) {
  auto handle = manager_->Get(model, version);
  if (!handle.ok() || !(*handle)->scheduler().Overloaded()) {
    return absl::OkStatus();
  }
  // Counted like the scheduler's own queue-full refusals.
  (*handle)->stats().RecordFailure(0);
  if (ModelMetrics* metrics = (*handle)->metrics()) {
    metrics->RecordRequest(RequestOutcome::kQueueFull, RequestTimes{});
  }
  return absl::UnavailableError(absl::StrCat(
      "model '", (*handle)->name(),
      "' is overloaded: its queue is full; retry later"));
}

void Server::Infer(InferenceRequest request, InferCallback done) {
  if (request.id.empty()) request.id = NextRequestId();
  // Counted before the check: WaitForDrain then sees every request that
  // got past it (both atomics are sequentially consistent).
  in_flight_.fetch_add(1);
  // The clock is read only while the access log is on.
  const uint64_t start_ns = AccessLogEnabled() ? MonotonicNowNs() : 0;
  auto answered = [this, start_ns, done = std::move(done)](
                      InferenceResponse response) mutable {
    if (start_ns != 0 && AccessLogEnabled()) {
      LogAccess(response.id, response.model_name, response.model_version,
                response.status, MonotonicNowNs() - start_ns);
    }
    done(std::move(response));
    in_flight_.fetch_sub(1);
  };
  InferCallback finish = std::move(answered);
  if (shutting_down_.load()) {
    Fail(request, request.model_version,
         absl::UnavailableError("the server is shutting down"), finish);
    return;
  }
  auto handle = manager_->Get(request.model_name, request.model_version);
  if (!handle.ok()) {
    Fail(request, request.model_version, handle.status(), finish);
    return;
  }
  ModelVersion& version = **handle;
  auto validated = ValidateRequest(version.name(), version.io(), request);
  if (!validated.ok()) {
    if (ModelMetrics* m = version.metrics()) {
      m->RecordRequest(RequestOutcome::kInvalid, RequestTimes{});
    }
    Fail(request, version.version(), validated.status(), finish);
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
  pending->done = [handle = *handle, done = std::move(finish)](
                      InferenceResponse response) mutable {
    if (!response.status.ok()) LogFailure(response);
    done(std::move(response));
  };
  version.scheduler().Enqueue(std::move(pending));
}

absl::StatusOr<LogSettings> Server::GetLogSettings() const {
  LogSettings s;
  s.level = CurrentLogLevel();
  s.format = CurrentLogFormat() == LogFormat::kJson ? "json" : "text";
  s.access_log = AccessLogEnabled();
  return s;
}

absl::StatusOr<LogSettings> Server::UpdateLogSettings(
    const LogSettingsUpdate& update) {
  // Validate everything before changing anything.
  if (update.level) {
    const std::string previous = CurrentLogLevel();
    absl::Status set = SetLogLevel(*update.level);
    if (!set.ok()) return set;
    if (previous != *update.level) {
      // At least at the new level, so the change itself is on record.
      spdlog::log(std::max(spdlog::level::info, spdlog::get_level()),
                  "log level changed from {} to {}", previous, *update.level);
    }
  }
  if (update.access_log) SetAccessLogEnabled(*update.access_log);
  return GetLogSettings();
}

}  // namespace serval
