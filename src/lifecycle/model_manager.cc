#include "lifecycle/model_manager.h"

#include <atomic>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "lifecycle/model_loader.h"
#include "lifecycle/reaper.h"
#include "repository/repository_scanner.h"
#include "spdlog/spdlog.h"

namespace serval {

std::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kUnavailable: return "UNAVAILABLE";
    case VersionState::kLoading: return "LOADING";
    case VersionState::kReady: return "READY";
    case VersionState::kUnloading: return "UNLOADING";
  }
  return "UNKNOWN";
}

ModelManager::ModelManager(ManagerOptions options)
    : options_(std::move(options)), registry_(options_.backend_directory) {}

ModelManager::~ModelManager() { StopAll(); }

void ModelManager::SetModelProblem(const std::string& model,
                                   const absl::Status& status) {
  spdlog::error("model '{}' failed to load: {}", model,
                ToStd(status.message()));
  std::lock_guard<std::mutex> lock(mu_);
  models_[model].problem = std::string(status.message());
}

absl::Status ModelManager::LoadAll() {
  auto scan = ScanRepositories(options_.repositories);
  if (!scan.ok()) return scan.status();
  for (const auto& problem : scan->problems) {
    SetModelProblem(problem.name, problem.status);
  }

  // Configs first (cheap), then every version as one task on the pool.
  LoadContext context{&registry_, options_.defaults};
  struct Task {
    const ScannedModel* model;
    std::shared_ptr<PreparedModel> prepared;
    int64_t version;
  };
  std::vector<Task> tasks;
  for (const auto& model : scan->models) {
    auto prepared = PrepareModel(context, model);
    if (!prepared.ok()) {
      SetModelProblem(model.name, prepared.status());
      continue;
    }
    for (const auto& w : prepared->warnings) spdlog::warn("{}", w);
    auto shared = std::make_shared<PreparedModel>(std::move(*prepared));
    std::lock_guard<std::mutex> lock(mu_);
    ModelRecord& record = models_[model.name];
    for (int64_t v : shared->versions) {
      record.versions[v].state = VersionState::kLoading;
      tasks.push_back({&model, shared, v});
    }
  }

  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < tasks.size(); i = next++) {
      const Task& t = tasks[i];
      auto handle = LoadVersion(*t.model, *t.prepared, t.version);
      std::lock_guard<std::mutex> lock(mu_);
      VersionRecord& record = models_[t.model->name].versions[t.version];
      if (handle.ok()) {
        record.state = VersionState::kReady;
        record.reason.clear();
        record.handle = std::move(*handle);
        spdlog::info("model '{}' version {} is ready (backend {})",
                     t.model->name, t.version, t.prepared->backend.plugin);
      } else {
        record.state = VersionState::kUnavailable;
        record.reason = std::string(handle.status().message());
        spdlog::error("model '{}' version {} failed to load: {}",
                      t.model->name, t.version, record.reason);
      }
    }
  };
  const size_t threads = std::min<size_t>(
      tasks.size(), static_cast<size_t>(std::max(1, options_.load_threads)));
  std::vector<std::thread> pool;
  for (size_t i = 0; i < threads; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return absl::OkStatus();
}

absl::StatusOr<ModelHandle> ModelManager::Get(std::string_view model,
                                              int64_t version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(model);
  if (it == models_.end()) {
    return absl::NotFoundError(
        absl::StrCat("model '", ToAbsl(model), "' is not found"));
  }
  const ModelRecord& record = it->second;
  if (version < 0) {
    for (auto v = record.versions.rbegin(); v != record.versions.rend(); ++v) {
      if (v->second.state == VersionState::kReady) return v->second.handle;
    }
    return absl::UnavailableError(absl::StrCat(
        "model '", ToAbsl(model), "' has no ready version",
        record.problem.empty() ? "" : ": ", record.problem));
  }
  auto v = record.versions.find(version);
  if (v == record.versions.end() || v->second.state != VersionState::kReady) {
    std::vector<int64_t> ready;
    for (const auto& [n, r] : record.versions) {
      if (r.state == VersionState::kReady) ready.push_back(n);
    }
    return absl::NotFoundError(absl::StrCat(
        "model '", ToAbsl(model), "' has no ready version ", version,
        " (ready versions: ", ready.empty() ? "none" : absl::StrJoin(ready, ", "),
        ")"));
  }
  return v->second.handle;
}

absl::StatusOr<std::vector<ModelHandle>> ModelManager::ReadyVersions(
    std::string_view model) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(model);
  if (it == models_.end()) {
    return absl::NotFoundError(
        absl::StrCat("model '", ToAbsl(model), "' is not found"));
  }
  std::vector<ModelHandle> out;
  for (const auto& [n, r] : it->second.versions) {
    if (r.state == VersionState::kReady) out.push_back(r.handle);
  }
  return out;
}

std::vector<ModelHandle> ModelManager::AllReady() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelHandle> out;
  for (const auto& [name, record] : models_) {
    for (const auto& [n, r] : record.versions) {
      if (r.state == VersionState::kReady) out.push_back(r.handle);
    }
  }
  return out;
}

std::vector<VersionStatus> ModelManager::Index() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<VersionStatus> out;
  for (const auto& [name, record] : models_) {
    if (record.versions.empty()) {
      out.push_back({name, -1, VersionState::kUnavailable, record.problem});
    }
    for (const auto& [n, r] : record.versions) {
      out.push_back({name, n, r.state, r.reason});
    }
  }
  return out;
}

void ModelManager::StopAll() {
  std::vector<ModelHandle> handles;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, record] : models_) {
      for (auto& [n, r] : record.versions) {
        if (r.handle) handles.push_back(std::move(r.handle));
        r.state = VersionState::kUnavailable;
        r.reason = "server is shutting down";
      }
    }
  }
  for (auto& h : handles) h->StopScheduler();
  handles.clear();
  Reaper::Get().Drain();
}

}  // namespace serval
