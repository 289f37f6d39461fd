#include "lifecycle/model_manager.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "config/config_json.h"
#include "ensemble/ensemble_plan.h"
#include "repository/model_name.h"
#include "spdlog/spdlog.h"

namespace serval {
namespace {

std::string MiB(int64_t bytes) {
  if (bytes < 0) return "unknown";
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

const ScannedModel* FindScanned(const RepositoryScan& scan,
                                std::string_view name) {
  for (const auto& m : scan.models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const ModelProblem* FindProblem(const RepositoryScan& scan,
                                std::string_view name) {
  for (const auto& p : scan.problems) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace

std::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kUnavailable:
      return "UNAVAILABLE";
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kReady:
      return "READY";
    case VersionState::kUnloading:
      return "UNLOADING";
  }
  return "UNKNOWN";
}

std::string_view ModelControlModeName(ModelControlMode mode) {
  switch (mode) {
    case ModelControlMode::kNone:
      return "none";
    case ModelControlMode::kPoll:
      return "poll";
    case ModelControlMode::kExplicit:
      return "explicit";
  }
  return "unknown";
}

absl::StatusOr<ModelControlMode> ParseModelControlMode(std::string_view name) {
  if (name == "none") return ModelControlMode::kNone;
  if (name == "poll") return ModelControlMode::kPoll;
  if (name == "explicit") return ModelControlMode::kExplicit;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown model control mode '", ToAbsl(name),
                   "'; expected none, poll or explicit"));
}

ModelManager::ModelManager(ManagerOptions options)
    : options_(std::move(options)),
      pool_(std::make_unique<ThreadPool>(options_.load_threads, "model-load")) {
  if (options_.stores.empty()) {
    for (const auto& root : options_.repositories) {
      options_.stores.push_back(MakeLocalStore(root));
    }
  }
}

absl::Status ModelManager::Localize(ModelSource& source) {
  if (source.model.listing == nullptr) return absl::OkStatus();
  absl::StatusOr<LocalModel> local = LocalizeModel(source.model);
  if (!local.ok()) {
    // The versions already serving (if any) stay; Index() tells why.
    RecordPrepareFailure(source.model.name, local.status());
    return local.status();
  }
  source.model = std::move(local->model);
  if (local->owner) source.files_owner = std::move(local->owner);
  return absl::OkStatus();
}

ModelManager::~ModelManager() {
  BeginShutdown();
  pool_.reset();  // loads in progress finish first
  StopAll();
  absl::MutexLock lock(&upload_mu_);
  owned_upload_root_.reset();
}

void ModelManager::SetModelProblem(const std::string& model,
                                   const absl::Status& status) {
  spdlog::error("model '{}' failed to load: {}", model,
                ToStd(status.message()));
  absl::MutexLock lock(&mu_);
  models_[model].problem = std::string(status.message());
  PublishLocked();
}

void ModelManager::RecordPrepareFailure(const std::string& model,
                                        const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  ModelRecord& record = models_[model];
  bool serving = false;
  for (const auto& [v, r] : record.versions) {
    serving = serving || r.state == VersionState::kReady;
  }
  record.problem = absl::StrCat(
      serving ? "the last load failed, the previous versions keep serving: "
              : "",
      status.message());
  PublishLocked();
  spdlog::error("model '{}' failed to load: {}", model, record.problem);
}

std::shared_ptr<absl::Mutex> ModelManager::LoadLock(const std::string& model) {
  absl::MutexLock lock(&mu_);
  auto& slot = load_locks_[model];
  if (!slot) slot = std::make_shared<absl::Mutex>();
  return slot;
}

absl::Status ModelManager::LoadAll() {
  ASSIGN_OR_RETURN(auto scan, ScanStores(options_.stores));

  // Which models to load: all, or those --load-model names in explicit mode.
  if (options_.control_mode != ModelControlMode::kExplicit &&
      !options_.startup_models.empty()) {
    spdlog::warn(
        "--load-model is for --model-control-mode=explicit; mode {} "
        "loads every model",
        ModelControlModeName(options_.control_mode));
  }
  std::set<std::string> wanted;
  bool all = options_.control_mode != ModelControlMode::kExplicit;
  for (const auto& name : options_.startup_models) {
    if (name == "*") {
      all = true;
    } else {
      wanted.insert(name);
    }
  }
  auto is_wanted = [&](const std::string& name) {
    return all || wanted.count(name) > 0;
  };

  // An ensemble's step models load with it (Triton does the same in
  // explicit mode). Reading a model's dependencies needs its configuration
  // local, so each round of the search first localizes (downloads) its
  // models, in parallel on the load pool.
  std::map<std::string, std::vector<std::string>> dependencies;
  std::map<std::string, ModelSource> sources;  // the localized ones
  std::vector<std::string> frontier;
  for (const auto& model : scan.models) {
    if (is_wanted(model.name)) frontier.push_back(model.name);
  }
  while (!frontier.empty()) {
    std::vector<ModelSource> round;
    for (const auto& name : frontier) {
      const ScannedModel* model = FindScanned(scan, name);
      if (model == nullptr || dependencies.count(name) > 0) continue;
      dependencies[name] = {};
      round.push_back(ModelSource{*model, std::nullopt, nullptr});
    }
    std::vector<absl::AnyInvocable<absl::Status() &&>> tasks;
    for (ModelSource& source : round) {
      tasks.push_back([this, &source] { return Localize(source); });
    }
    const std::vector<absl::Status> localized =
        RunAllAndWait(*pool_, std::move(tasks));
    frontier.clear();
    for (size_t i = 0; i < round.size(); ++i) {
      if (!localized[i].ok()) continue;  // recorded by Localize
      const std::string name = round[i].model.name;
      dependencies[name] = options_.loader->Dependencies(round[i].model);
      for (const auto& dep : dependencies[name]) {
        if (!all && FindScanned(scan, dep) != nullptr &&
            wanted.insert(dep).second) {
          frontier.push_back(dep);
        }
      }
      sources.emplace(name, std::move(round[i]));
    }
  }

  for (const auto& problem : scan.problems) {
    if (!is_wanted(problem.name)) continue;
    SetModelProblem(problem.name, problem.status);
    absl::MutexLock lock(&mu_);
    required_.insert(problem.name);
  }
  // Waves: a model loads once the models it depends on had their turn; what
  // is left on a cycle loads last and fails naming the step.
  std::vector<const ModelSource*> pending;
  for (const auto& model : scan.models) {
    if (!is_wanted(model.name)) continue;
    absl::MutexLock lock(&mu_);
    required_.insert(model.name);
    auto it = sources.find(model.name);
    if (it != sources.end()) pending.push_back(&it->second);
  }
  while (!pending.empty()) {
    std::set<std::string> waiting;
    for (const ModelSource* m : pending) waiting.insert(m->model.name);
    std::vector<const ModelSource*> wave, later;
    for (const ModelSource* m : pending) {
      bool blocked = false;
      for (const auto& dep : dependencies[m->model.name]) {
        blocked = blocked || (dep != m->model.name && waiting.count(dep) > 0);
      }
      (blocked ? later : wave).push_back(m);
    }
    if (wave.empty()) wave.swap(later);
    std::vector<absl::AnyInvocable<absl::Status() &&>> tasks;
    for (const ModelSource* m : wave) {
      tasks.push_back(
          [this, m] { return Install(*m, /*load_dependencies=*/false); });
    }
    RunAllAndWait(*pool_, std::move(tasks));
    pending.swap(later);
  }
  if (!all) {
    for (const auto& name : wanted) {
      if (FindScanned(scan, name) != nullptr ||
          FindProblem(scan, name) != nullptr) {
        continue;
      }
      SetModelProblem(name, absl::NotFoundError(absl::StrCat(
                                "--load-model names '", name,
                                "', which is not in the model repository")));
      absl::MutexLock lock(&mu_);
      required_.insert(name);
    }
  }
  return absl::OkStatus();
}

void ModelManager::LoadDependencies(const ModelSource& source,
                                    std::vector<std::string>* chain) {
  const std::vector<std::string> deps =
      source.config_override ? EnsembleStepModels(*source.config_override)
                             : options_.loader->Dependencies(source.model);
  std::optional<RepositoryScan> scan;
  for (const std::string& dep : deps) {
    if (Serving()->Get(dep, -1).ok()) continue;
    // A cycle: the ensemble's own load reports the step it cannot run.
    if (dep == source.model.name ||
        std::find(chain->begin(), chain->end(), dep) != chain->end()) {
      continue;
    }
    if (!scan) {
      auto scanned = ScanStores(options_.stores);
      if (!scanned.ok()) return;
      scan = std::move(*scanned);
    }
    const ScannedModel* found = FindScanned(*scan, dep);
    if (found == nullptr) continue;
    chain->push_back(source.model.name);
    // A failure is on record for the step model; the ensemble's load then
    // fails naming it.
    Install(ModelSource{*found, std::nullopt, nullptr}, true, chain)
        .IgnoreError();
    chain->pop_back();
  }
}

absl::Status ModelManager::Install(const ModelSource& scanned,
                                   bool load_dependencies,
                                   std::vector<std::string>* chain) {
  ModelSource source = scanned;
  RETURN_IF_ERROR(Localize(source));
  const std::string& name = source.model.name;
  if (load_dependencies) {
    // Before this model's load lock: holding it while waiting for another
    // model's would deadlock two ensembles that name each other.
    std::vector<std::string> own_chain;
    LoadDependencies(source, chain != nullptr ? chain : &own_chain);
  }
  auto load_lock = LoadLock(name);
  absl::MutexLock serial(load_lock.get());
  if (shutting_down_.load()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot load model '", name, "': the server is shutting down"));
  }
  auto prepared = options_.loader->Prepare(
      source.model,
      source.config_override ? &*source.config_override : nullptr);
  if (!prepared.ok()) {
    // The versions already serving (if any) stay; Index() tells why.
    RecordPrepareFailure(name, prepared.status());
    return prepared.status();
  }
  for (const auto& w : prepared->warnings) spdlog::warn("{}", w);
  MarkLoading(name, prepared->versions);

  std::vector<LoadedVersion> loaded;
  for (int64_t v : prepared->versions) {
    auto handle =
        options_.loader->Load(source.model, *prepared, v, source.files_owner);
    if (handle.ok()) {
      spdlog::info(
          "model '{}' version {} loaded and warmed up (backend {}, resident "
          "memory +{})",
          name, v,
          prepared->backend.plugin.empty() ? prepared->backend.platform
                                           : prepared->backend.plugin,
          MiB((*handle)->load_memory_bytes()));
    } else {
      spdlog::error("model '{}' version {} failed to load: {}", name, v,
                    ToStd(handle.status().message()));
    }
    loaded.push_back({v, std::move(handle)});
  }
  return Switch(name, std::move(loaded));
}

void ModelManager::MarkLoading(const std::string& model,
                               const std::vector<int64_t>& versions) {
  absl::MutexLock lock(&mu_);
  ModelRecord& record = models_[model];
  for (int64_t v : versions) {
    VersionRecord& r = record.versions[v];
    if (r.state == VersionState::kReady) {
      r.reason = "serving; a new load of this version is in progress";
    } else {
      r.state = VersionState::kLoading;
      r.reason.clear();
    }
  }
  // Requests see the load at once: "loading, retry" (503), not "gone".
  PublishLocked();
}

absl::Status ModelManager::Switch(const std::string& model,
                                  std::vector<LoadedVersion> loaded) {
  absl::Status first_error;
  for (const auto& l : loaded) {
    if (!l.handle.ok()) {
      first_error = l.handle.status();
      break;
    }
  }
  std::vector<ModelHandle> to_release;
  absl::MutexLock lock(&mu_);
  ModelRecord& record = models_[model];
  bool serving = false;
  for (const auto& [v, r] : record.versions) {
    serving = serving || r.state == VersionState::kReady;
  }

  if (!first_error.ok() && serving) {
    // All or nothing: the versions serving now keep serving.
    record.problem = absl::StrCat(
        "the last load failed, the previous versions keep serving: ",
        first_error.message());
    for (auto& l : loaded) {
      VersionRecord& r = record.versions[l.version];
      if (r.state == VersionState::kReady) {
        r.reason.clear();
      } else {
        r.state = VersionState::kUnavailable;
        r.reason = l.handle.ok()
                       ? "loaded, but not switched to: another version of "
                         "the same load failed"
                       : std::string(l.handle.status().message());
      }
      if (l.handle.ok()) to_release.push_back(std::move(*l.handle));
    }
    PublishLocked();
    spdlog::error("model '{}': {}", model, record.problem);
    return first_error;
  }

  to_release = RetireLocked(model, record);
  record.versions.clear();
  record.problem = first_error.ok() ? "" : std::string(first_error.message());
  for (auto& l : loaded) {
    VersionRecord& r = record.versions[l.version];
    if (l.handle.ok()) {
      r.state = VersionState::kReady;
      r.handle = std::move(*l.handle);
    } else {
      r.state = VersionState::kUnavailable;
      r.reason = std::string(l.handle.status().message());
    }
  }
  PublishLocked();
  std::vector<int64_t> ready;
  for (const auto& [v, r] : record.versions) {
    if (r.state == VersionState::kReady) ready.push_back(v);
  }
  spdlog::info("model '{}' now serves version(s) [{}]", model,
               fmt::join(ready, ", "));
  return first_error;
}

void ModelManager::PublishLocked() {
  absl::flat_hash_map<std::string, ServingMap::Model> models;
  for (const auto& [name, record] : models_) {
    ServingMap::Model& m = models[name];
    m.problem = record.problem;
    for (const auto& [v, r] : record.versions) {
      if (r.state == VersionState::kReady) m.ready.push_back(r.handle);
      if (r.state == VersionState::kLoading) m.loading = true;
      m.known.push_back(v);
    }
  }
  serving_.store(std::make_shared<const ServingMap>(std::move(models)),
                 std::memory_order_release);
}

std::vector<ModelHandle> ModelManager::RetireLocked(const std::string& model,
                                                    ModelRecord& record) {
  // Forget the versions that are gone, so the list stays short even when
  // nobody reads the index.
  std::erase_if(retiring_,
                [](const Retiring& r) { return r.handle.expired(); });
  std::vector<ModelHandle> out;
  for (auto& [v, r] : record.versions) {
    if (!r.handle) continue;
    retiring_.push_back({model, v, r.handle});
    out.push_back(std::move(r.handle));
  }
  return out;
}

absl::Status ModelManager::Unload(const std::string& model,
                                  const std::string& reason) {
  {
    // Checked first so that unknown names leave no load lock behind.
    absl::MutexLock lock(&mu_);
    if (models_.count(model) == 0) {
      return absl::NotFoundError(
          absl::StrCat("cannot unload model '", model, "': it is not known"));
    }
  }
  auto load_lock = LoadLock(model);
  absl::MutexLock serial(load_lock.get());
  std::vector<ModelHandle> to_release;
  {
    absl::MutexLock lock(&mu_);
    auto it = models_.find(model);
    if (it == models_.end()) {
      return absl::NotFoundError(
          absl::StrCat("cannot unload model '", model, "': it is not known"));
    }
    to_release = RetireLocked(model, it->second);
    for (auto& [v, r] : it->second.versions) {
      r.state = VersionState::kUnavailable;
      r.reason = reason;
    }
    it->second.problem = reason;
    PublishLocked();
  }
  spdlog::info("model '{}' {}; {} version(s) finish their in-flight requests",
               model, reason, to_release.size());
  return absl::OkStatus();
}

absl::StatusOr<ModelManager::ModelSource> ModelManager::SourceForApi(
    const std::string& model, const LoadRequest& request) {
  ModelSource source;
  if (!request.config_json.empty()) {
    ASSIGN_OR_RETURN(
        source.config_override,
        ModelConfigFromJson(request.config_json,
                            "the load request's 'config' parameter"));
  }
  ModelStores stores = options_.stores;
  if (!request.files.empty()) {
    if (!source.config_override) {
      return absl::InvalidArgumentError(
          "uploaded model files need a 'config' parameter as well");
    }
    ASSIGN_OR_RETURN(auto dir,
                     WriteUploadedModel(UploadRoot(), model, request.files,
                                        options_.upload_limits));
    stores = {MakeLocalStore(dir->path())};
    source.files_owner = dir;
  }
  ASSIGN_OR_RETURN(auto scan, ScanStores(stores));
  if (const ScannedModel* found = FindScanned(scan, model)) {
    source.model = *found;
    return source;
  }
  if (const ModelProblem* problem = FindProblem(scan, model)) {
    return problem->status;
  }
  return absl::NotFoundError(absl::StrCat(
      "cannot load model '", model, "': it is not in the model repository"));
}

absl::Status ModelManager::ExplicitModeOnly(std::string_view action,
                                            std::string_view model) const {
  if (options_.control_mode == ModelControlMode::kExplicit) {
    return absl::OkStatus();
  }
  // Triton's text and code (UNAVAILABLE), which its clients expect, then
  // what to do about it.
  return absl::UnavailableError(absl::StrCat(
      "explicit model load / unload is not allowed if polling is enabled: "
      "cannot ",
      ToAbsl(action), " model '", ToAbsl(model),
      "'; the load/unload API needs --model-control-mode=explicit (this "
      "server runs in mode '",
      ToAbsl(ModelControlModeName(options_.control_mode)), "')"));
}

absl::Status ModelManager::LoadFromApi(std::string_view model,
                                       const LoadRequest& request) {
  RETURN_IF_ERROR(ExplicitModeOnly("load", model));
  if (shutting_down_.load()) {
    return absl::UnavailableError("the server is shutting down");
  }
  // Every failure starts with Triton's "failed to load '<model>'", which
  // clients look for.
  const auto failed = [&](const absl::Status& s) {
    return Annotate(s, absl::StrCat("failed to load '", ToAbsl(model), "'"));
  };
  RETURN_IF_ERROR(ValidateModelName(model), failed(_));
  const std::string name(model);
  auto source = SourceForApi(name, request);
  if (!source.ok()) {
    spdlog::error("load of model '{}' refused: {}", name,
                  ToStd(source.status().message()));
    return failed(source.status());
  }
  RETURN_IF_ERROR(RunAndWait(*pool_,
                             [this, source = std::move(*source)] {
                               return Install(source, true);
                             }),
                  failed(_));
  return absl::OkStatus();
}

absl::Status ModelManager::UnloadFromApi(std::string_view model,
                                         bool unload_dependents) {
  RETURN_IF_ERROR(ExplicitModeOnly("unload", model));
  std::vector<std::string> steps;
  if (auto handle = Serving()->Get(model, -1); handle.ok()) {
    steps = (*handle)->step_models();
  }
  RETURN_IF_ERROR(Unload(std::string(model), "unloaded"));
  if (!unload_dependents) return absl::OkStatus();
  for (const std::string& step : steps) {
    // Kept while another serving ensemble still runs it.
    bool used = false;
    for (const ModelHandle& h : Serving()->AllReady()) {
      const auto& others = h->step_models();
      used =
          used || std::find(others.begin(), others.end(), step) != others.end();
    }
    if (!used) RETURN_IF_ERROR(UnloadFromApi(step, true));
  }
  return absl::OkStatus();
}

absl::Status ModelManager::ReloadScanned(const ScannedModel& model) {
  return RunAndWait(*pool_,
                    [this, source = ModelSource{model, std::nullopt, nullptr}] {
                      return Install(source, true);
                    });
}

void ModelManager::UnloadRemoved(const std::string& model) {
  Unload(model, "removed from the model repository").IgnoreError();
}

const std::string& ModelManager::UploadRoot() {
  if (!options_.upload_directory.empty()) return options_.upload_directory;
  absl::MutexLock lock(&upload_mu_);
  if (!owned_upload_root_) {
    std::error_code ec;
    std::string pattern =
        (std::filesystem::temp_directory_path(ec) / "serval-uploads-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) pattern = "serval-uploads";
    owned_upload_root_ = std::make_unique<OwnedDirectory>(pattern);
  }
  return owned_upload_root_->path();
}

bool ModelManager::RequiredModelsReady() const {
  std::shared_ptr<const ServingMap> serving = Serving();
  absl::MutexLock lock(&mu_);
  for (const auto& name : required_) {
    if (!serving->Get(name, -1).ok()) return false;
  }
  return true;
}

std::vector<VersionStatus> ModelManager::Index() const {
  absl::MutexLock lock(&mu_);
  std::map<std::pair<std::string, int64_t>, VersionStatus> rows;
  for (const auto& [name, record] : models_) {
    if (record.versions.empty()) {
      rows[{name, -1}] = {name, -1, VersionState::kUnavailable, record.problem};
    }
    for (const auto& [v, r] : record.versions) {
      VersionStatus s{name, v, r.state, r.reason};
      if (r.handle) s.memory_bytes = r.handle->load_memory_bytes();
      if (r.state == VersionState::kReady && !record.problem.empty() &&
          s.reason.empty()) {
        s.reason = record.problem;  // e.g. a failed reload
      }
      rows[{name, v}] = std::move(s);
    }
  }
  // Versions still finishing their requests (the expired ones are skipped;
  // RetireLocked forgets them).
  for (const Retiring& r : retiring_) {
    ModelHandle h = r.handle.lock();
    if (!h) continue;
    auto [it, added] = rows.try_emplace({r.model, r.version});
    VersionStatus& s = it->second;
    if (!added && s.state == VersionState::kReady) continue;
    s = {r.model, r.version, VersionState::kUnloading,
         "finishing in-flight requests", h->load_memory_bytes()};
  }
  std::vector<VersionStatus> out;
  out.reserve(rows.size());
  for (auto& [key, s] : rows) out.push_back(std::move(s));
  return out;
}

std::vector<std::string> ModelManager::ListRepository() const {
  std::vector<std::string> names;
  auto scan = ScanStores(options_.stores);
  if (!scan.ok()) return names;
  for (const auto& m : scan->models) names.push_back(m.name);
  return names;
}

void ModelManager::StopAll() {
  std::vector<ModelHandle> handles;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, record] : models_) {
      for (auto& [n, r] : record.versions) {
        if (r.handle) handles.push_back(std::move(r.handle));
        r.state = VersionState::kUnavailable;
        r.reason = "server is shutting down";
      }
    }
    PublishLocked();
  }
  for (auto& h : handles) h->StopScheduler();
}

}  // namespace serval
