#include "server/server.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/status_map.h"
#include "server/output_options.h"
#include "server/request_validator.h"

namespace serval {
namespace {

void LogFailure(const InferenceResponse& r) {
  const auto code = r.status.code();
  const auto level = (code == absl::StatusCode::kInternal ||
                      code == absl::StatusCode::kUnknown)
                         ? spdlog::level::err
                         : spdlog::level::debug;
  LogForRequest(
      level, r.id,
      absl::StrCat("model '", r.model_name, "' failed: ", r.status.ToString()));
}

ModelRef RefTo(const ModelHandle& h) {
  return ModelRef(h, &h->name(), h->version(), &h->spec());
}

// An ensemble serves while every model its steps run does (nested
// ensembles included; the load refused cycles).
bool StepsReady(const ServingMap& serving, const ModelVersion& version,
                int depth = 0) {
  if (depth > 16) return false;
  for (const std::string& step : version.step_models()) {
    auto handle = serving.Get(step, -1);
    if (!handle.ok() || !StepsReady(serving, **handle, depth + 1)) {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace {

std::vector<std::pair<std::string, std::string>> PrivateDirectories(
    const ModelManager& manager, const ServerOptions& options) {
  auto dirs = options.private_directories;
  for (const std::string& repo : manager.repositories()) {
    dirs.emplace_back(repo, "<model repository>");
  }
  std::error_code ec;
  const std::string tmp = std::filesystem::temp_directory_path(ec).string();
  if (!ec) dirs.emplace_back(tmp, "<temporary directory>");
  return dirs;
}

}  // namespace

Server::Server(ModelManager* manager, ServerOptions options)
    : manager_(manager),
      options_(options),
      redactor_(PrivateDirectories(*manager, options_)),
      tracer_(options_.trace) {}

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
  m.name = options_.name;
  m.version = kServerVersion;
  // Exactly what this server implements, in Triton's order; CUDA shared
  // memory is answered (registration refused) but not offered.
  m.extensions = {"classification",
                  "model_repository",
                  "model_repository(unload_dependents)",
                  "schedule_policy",
                  "model_configuration",
                  "system_shared_memory",
                  "binary_tensor_data",
                  "statistics",
                  "trace",
                  "logging"};
  return m;
}

absl::StatusOr<ModelMetadata> Server::GetModelMetadata(std::string_view model,
                                                       int64_t version) const {
  std::shared_ptr<const ServingMap> serving = manager_->Serving();
  ASSIGN_OR_RETURN(ModelHandle handle, serving->Get(model, version),
                   redactor_.Redact(_));
  ModelMetadata m;
  m.name = handle->name();
  ASSIGN_OR_RETURN(std::vector<ModelHandle> ready,
                   serving->ReadyVersions(model));
  for (const auto& v : ready) m.versions.push_back(v->version_string());
  m.platform = handle->backend().platform;
  const ModelSpec& io = handle->spec();
  for (size_t i = 0; i < io.inputs.size(); ++i) {
    m.inputs.push_back(
        {io.inputs[i].name, io.inputs[i].datatype, io.FullInputShape(i)});
  }
  for (size_t i = 0; i < io.outputs.size(); ++i) {
    m.outputs.push_back(
        {io.outputs[i].name, io.outputs[i].datatype, io.FullOutputShape(i)});
  }
  return m;
}

absl::StatusOr<bool> Server::IsModelReady(std::string_view model,
                                          int64_t version) const {
  std::shared_ptr<const ServingMap> serving = manager_->Serving();
  RETURN_IF_ERROR(serving->ReadyVersions(model).status());
  auto handle = serving->Get(model, version);
  return handle.ok() && StepsReady(*serving, **handle);
}

absl::StatusOr<inference::ModelConfig> Server::GetModelConfig(
    std::string_view model, int64_t version) const {
  ASSIGN_OR_RETURN(ModelHandle handle, manager_->Get(model, version),
                   redactor_.Redact(_));
  return handle->config();
}

absl::StatusOr<std::vector<ModelStatistics>> Server::GetModelStatistics(
    std::string_view model, int64_t version) const {
  std::shared_ptr<const ServingMap> serving = manager_->Serving();
  std::vector<ModelHandle> handles;
  if (model.empty()) {
    handles = serving->AllReady();
  } else if (version >= 0) {
    ASSIGN_OR_RETURN(ModelHandle h, serving->Get(model, version));
    handles.push_back(std::move(h));
  } else {
    ASSIGN_OR_RETURN(handles, serving->ReadyVersions(model));
  }
  std::vector<ModelStatistics> out;
  for (const auto& h : handles) {
    out.push_back(h->stats().Snapshot(h->name(), h->version_string()));
    out.back().memory_bytes = h->load_memory_bytes();
  }
  return out;
}

std::vector<RepositoryEntry> Server::GetRepositoryIndex(bool ready_only) const {
  std::vector<VersionStatus> known = manager_->Index();
  // Models on disk that were never loaded are listed too (as Triton does),
  // so that explicit mode shows what could be loaded.
  std::set<std::string, std::less<>> seen;
  for (const auto& s : known) seen.insert(s.model);
  for (auto& name : manager_->ListRepository()) {
    if (seen.insert(name).second) {
      known.push_back({name, -1, VersionState::kUnavailable, "not loaded"});
    }
  }
  std::sort(known.begin(), known.end(),
            [](const VersionStatus& a, const VersionStatus& b) {
              return std::tie(a.model, a.version) <
                     std::tie(b.model, b.version);
            });
  std::vector<RepositoryEntry> out;
  for (const auto& s : known) {
    if (ready_only && s.state != VersionState::kReady) continue;
    out.push_back({s.model, s.version >= 0 ? std::to_string(s.version) : "",
                   std::string(VersionStateName(s.state)),
                   redactor_.Redact(s.reason), s.memory_bytes});
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
  return redactor_.Redact(manager_->LoadFromApi(model, request));
}

absl::Status Server::UnloadModel(std::string_view model,
                                 bool unload_dependents) {
  return redactor_.Redact(manager_->UnloadFromApi(model, unload_dependents));
}

absl::StatusOr<ModelRef> Server::Resolve(std::string_view model,
                                         int64_t version) const {
  absl::StatusOr<ModelHandle> handle = manager_->Get(model, version);
  if (!handle.ok() && absl::IsNotFound(handle.status()) && !ready_.load()) {
    // During the start-up load a model may not even be registered yet:
    // "not found" would be final for a client or a load balancer, while a
    // moment later it serves.
    return absl::UnavailableError(absl::StrCat(
        "model '", ToAbsl(model),
        "' is not available yet: the server is still loading its models; "
        "retry later"));
  }
  if (!handle.ok()) return redactor_.Redact(handle.status());
  return RefTo(*handle);
}

absl::Status Server::CheckAdmission(const ModelRef& model) {
  ModelVersion* version = model.handle().get();
  if (version == nullptr || !version->scheduler().Overloaded()) {
    return absl::OkStatus();
  }
  // Counted like the scheduler's own queue-full refusals.
  version->stats().RecordFailure(0);
  if (ModelMetrics* metrics = version->metrics()) {
    metrics->RecordRequest(RequestOutcome::kQueueFull, RequestTimes{});
  }
  absl::Status refused = absl::UnavailableError(
      absl::StrCat("model '", version->name(),
                   "' is overloaded: its queue is full or over its time "
                   "budget; retry later"));
  const uint64_t wait = version->scheduler().PredictedWaitNs();
  SetRetryAfter(&refused,
                std::max<uint64_t>(1, (wait + 999'999'999) / 1'000'000'000));
  return refused;
}

absl::StatusOr<ModelSpec> Server::StepSpec(std::string_view model,
                                           int64_t version) const {
  ASSIGN_OR_RETURN(ModelHandle handle, manager_->Get(model, version),
                   redactor_.Redact(_));
  return handle->spec();
}

void Server::InferStep(std::string_view model, int64_t version,
                       InferenceRequest request, InferCompletion* done) {
  auto ref = Resolve(model, version);
  if (!ref.ok()) {
    InferenceResponse response;
    response.status = ref.status();
    response.model_name = std::string(model);
    response.id = request.id;
    done->OnInferComplete(std::move(response));
    return;
  }
  Submit(*ref, std::move(request), done, /*step=*/true);
}

void Server::Infer(const ModelRef& model, InferenceRequest request,
                   InferCompletion* done) {
  Submit(model, std::move(request), done, /*step=*/false);
}

void Server::Submit(const ModelRef& model, InferenceRequest request,
                    InferCompletion* done, bool step) {
  if (request.id.empty()) request.id = NextRequestId();
  // Counted before the checks: WaitForDrain then sees every request that
  // got past them (both atomics are sequentially consistent).
  in_flight_.fetch_add(1);
  auto pending = std::make_unique<PendingRequest>();
  pending->owner = this;
  pending->done = done;
  // The clock is read only while the access log is on.
  pending->start_ns = AccessLogEnabled() ? MonotonicNowNs() : 0;
  InferenceResponse& response = pending->response;
  response.model_name = model.name();
  response.model_version = model.version();
  response.id = request.id;
  ModelVersion* version = model.handle().get();
  // A step belongs to an ensemble request admitted before the shutdown
  // began: refusing it would fail a request the drain waits for.
  if (shutting_down_.load() && !step) {
    response.status = absl::UnavailableError("the server is shutting down");
  } else if (version == nullptr) {
    response.status =
        absl::InternalError("model reference was not resolved by this server");
  } else if (auto batch =
                 ValidateRequest(version->name(), version->spec(), request);
             !batch.ok()) {
    if (ModelMetrics* m = version->metrics()) {
      m->RecordRequest(RequestOutcome::kInvalid, RequestTimes{});
    }
    response.status = batch.status();
  } else {
    request.model_name = version->name();
    request.model_version = version->version();
    if (tracer_.active()) {  // the only cost of tracing while it is off
      pending->trace_id = tracer_.Sample(version->name());
      if (pending->trace_id != 0) {
        if (pending->start_ns == 0) pending->start_ns = MonotonicNowNs();
        if (tracer_.WantsTensors(version->name())) {
          tracer_.RecordInputs(pending->trace_id, request.inputs);
        }
      }
    }
    pending->batch_size = *batch;
    pending->request = std::move(request);
    // The version outlives its requests: the request holds it.
    pending->keep_alive = model.handle();
    version->scheduler().Enqueue(std::move(pending));
    return;
  }
  Complete(std::move(pending));
}

void Server::Complete(PendingPtr request) {
  InferenceResponse& response = request->response;
  const std::vector<OutputOptions>& options = request->request.output_options;
  if (response.status.ok() && !options.empty()) {
    // Infer put the request's version here.
    const auto* version =
        static_cast<const ModelVersion*>(request->keep_alive.get());
    const ModelSpec& spec = version->spec();
    response.status = ApplyOutputOptions(
        options, spec.batching(),
        [&](std::string_view name) -> const std::vector<std::string>& {
          return version->labels(spec.OutputIndex(name).value_or(SIZE_MAX));
        },
        &response.outputs);
    if (!response.status.ok()) response.outputs.clear();
  }
  if (!response.status.ok()) LogFailure(response);
  if (request->trace_id != 0) {
    TraceTimestamps t;
    t.request_start = request->start_ns;
    t.queue_start = request->enqueue_ns;
    t.compute_start = request->compute_start_ns;
    t.compute_input_end = request->compute_input_end_ns;
    t.compute_output_start = request->compute_output_start_ns;
    t.compute_end = request->compute_end_ns;
    t.request_end = MonotonicNowNs();
    tracer_.Finish(request->trace_id, response.model_name,
                   response.model_version, response.id, t,
                   response.status.ok() ? &response.outputs : nullptr);
  }
  if (request->start_ns != 0 && AccessLogEnabled()) {
    LogAccess(response.id, response.model_name, response.model_version,
              response.status, MonotonicNowNs() - request->start_ns);
  }
  request->done->OnInferComplete(std::move(request->response));
  // The request's views and the version it held go before it stops
  // counting as in flight.
  request.reset();
  in_flight_.fetch_sub(1);
}

absl::Status Server::RegisterSystemSharedMemory(std::string_view name,
                                                std::string_view key,
                                                uint64_t offset,
                                                uint64_t byte_size) {
  return shared_memory_.Register(name, key, offset, byte_size);
}

absl::Status Server::UnregisterSystemSharedMemory(std::string_view name) {
  return shared_memory_.Unregister(name);
}

absl::StatusOr<std::vector<SharedMemoryRegionStatus>>
Server::GetSystemSharedMemoryStatus(std::string_view name) const {
  return shared_memory_.Status(name);
}

absl::StatusOr<SharedMemoryView> Server::MapSharedMemory(
    std::string_view region, uint64_t offset, uint64_t byte_size) const {
  return shared_memory_.Map(region, offset, byte_size);
}

absl::StatusOr<TraceSettings> Server::GetTraceSettings(
    std::string_view model) const {
  if (!model.empty()) RETURN_IF_ERROR(Resolve(model, -1).status());
  return tracer_.Get(model);
}

absl::StatusOr<TraceSettings> Server::UpdateTraceSettings(
    std::string_view model, const std::vector<TraceSettingUpdate>& updates) {
  if (!model.empty()) RETURN_IF_ERROR(Resolve(model, -1).status());
  return tracer_.Update(model, updates);
}

absl::StatusOr<LogSettings> Server::GetLogSettings() const {
  LogSettings s;
  s.level = CurrentLogLevel();
  s.format = CurrentLogFormat() == LogFormat::kJson ? "json" : "text";
  s.access_log = AccessLogEnabled();
  const int rank = LogLevelRank(s.level);
  s.info = rank <= LogLevelRank("info");
  s.warning = rank <= LogLevelRank("warn");
  s.error = rank <= LogLevelRank("error");
  s.verbose_level = rank <= LogLevelRank("debug") ? 1 : 0;
  return s;
}

absl::StatusOr<LogSettings> Server::UpdateLogSettings(
    const LogSettingsUpdate& update) {
  // Validate everything before changing anything.
  ASSIGN_OR_RETURN(const LogSettings current, GetLogSettings());
  if (update.file && !update.file->empty()) {
    return absl::UnimplementedError(
        "log file location can not be updated through network protocol");
  }
  if (update.format && *update.format != current.format &&
      !(*update.format == "default" && current.format == "text")) {
    return absl::InvalidArgumentError(
        absl::StrCat("log_format is fixed at start-up (--log-format); it is '",
                     current.format, "'"));
  }
  std::string level = update.level.value_or(current.level);
  if (LogLevelRank(level) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log level '", level,
                     "'; expected trace, debug, info, warn, error or off"));
  }
  // Triton's switches, weakest severity first, each moving the one level
  // just far enough.
  const std::pair<const std::optional<bool>*, const char*> switches[] = {
      {&update.info, "info"},
      {&update.warning, "warn"},
      {&update.error, "error"}};
  static const char* const kNext[] = {"warn", "error", "off"};
  for (size_t i = 0; i < 3; ++i) {
    const auto& [on, name] = switches[i];
    if (!on->has_value()) continue;
    const bool logged = LogLevelRank(level) <= LogLevelRank(name);
    if (**on && !logged) level = name;
    if (!**on && logged) level = kNext[i];
  }
  if (update.verbose_level) {
    if (*update.verbose_level > 0 &&
        LogLevelRank(level) > LogLevelRank("debug")) {
      level = "debug";
    } else if (*update.verbose_level == 0 &&
               LogLevelRank(level) < LogLevelRank("info")) {
      level = "info";
    }
  }
  if (level != current.level) {
    RETURN_IF_ERROR(SetLogLevel(level));
    // At least at the new level, so the change itself is on record.
    spdlog::log(std::max(spdlog::level::info, spdlog::get_level()),
                "log level changed from {} to {}", current.level, level);
  }
  if (update.access_log) SetAccessLogEnabled(*update.access_log);
  return GetLogSettings();
}

}  // namespace serval
