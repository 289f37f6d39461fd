#include "lifecycle/model_loader.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "config/autocomplete_merge.h"
#include "config/config_finalizer.h"
#include "config/config_parser.h"
#include "ensemble/ensemble_executor.h"
#include "ensemble/ensemble_plan.h"
#include "lifecycle/process_memory.h"
#include "lifecycle/warmup.h"
#include "repository/version_policy.h"
#include "scheduler/backend_executor.h"

namespace serval {
namespace fs = std::filesystem;
namespace {

// Triton's auto-detection for a config naming neither backend nor platform:
// the backend whose default model file is in the newest version directory.
void DetectBackend(const ScannedModel& model, inference::ModelConfig* config) {
  if (!config->backend().empty() || !config->platform().empty()) return;
  std::error_code ec;
  const fs::path dir = model.VersionPath(model.versions.back());
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto backend = BackendForModelFile(entry.path().filename().string());
    if (backend.has_value()) {
      config->set_backend(*backend);
      return;
    }
  }
}

absl::Status WithModel(const std::string& model, const absl::Status& s) {
  return Annotate(s, absl::StrCat("model '", model, "'"));
}

absl::Status WithVersion(const std::string& model, int64_t version,
                         const absl::Status& s) {
  return Annotate(s, absl::StrCat("model '", model, "' version ", version));
}

// The labels of each output with a label_filename: one per line of that
// file in the model's directory. The name must stay inside the directory.
absl::StatusOr<std::vector<std::vector<std::string>>> ReadLabels(
    const ScannedModel& model, const inference::ModelConfig& config) {
  std::vector<std::vector<std::string>> labels(config.output_size());
  for (int o = 0; o < config.output_size(); ++o) {
    const std::string& name = config.output(o).label_filename();
    if (name.empty()) continue;
    const fs::path relative(name);
    bool escapes = relative.is_absolute() || relative.empty();
    for (const auto& part : relative) escapes = escapes || part == "..";
    if (escapes) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", model.name, "' output '",
                       config.output(o).name(), "': label_filename '", name,
                       "' must name a file inside the model directory"));
    }
    std::ifstream in(fs::path(model.path) / relative);
    if (!in) {
      return absl::NotFoundError(absl::StrCat(
          "model '", model.name, "' output '", config.output(o).name(),
          "': cannot read label_filename '", name, "'"));
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      labels[o].push_back(std::move(line));
    }
  }
  return labels;
}

}  // namespace

BackendVersionLoader::BackendVersionLoader(BackendLoaderOptions options)
    : options_(std::move(options)), registry_(options_.backend_directory) {}

absl::StatusOr<PreparedModel> BackendVersionLoader::Prepare(
    const ScannedModel& model, const inference::ModelConfig* config_override) {
  PreparedModel p;
  if (config_override != nullptr) {
    p.config = *config_override;
  } else {
    ASSIGN_OR_RETURN(auto read, ReadModelConfig(model.path));
    if (read.has_value()) p.config = std::move(*read);
  }
  DetectBackend(model, &p.config);

  ASSIGN_OR_RETURN(p.backend, ResolveBackend(p.config));
  if (!IsEnsemble(p.config)) {
    ASSIGN_OR_RETURN(p.library, registry_.Get(p.backend.plugin),
                     WithModel(model.name, _));
  }
  p.dependencies = EnsembleStepModels(p.config);

  ASSIGN_OR_RETURN(auto selection,
                   SelectVersions(p.config.version_policy(), model.versions),
                   WithModel(model.name, _));
  if (!selection.missing.empty()) {
    p.warnings.push_back(absl::StrCat(
        "model '", model.name, "': version_policy names version(s) ",
        absl::StrJoin(selection.missing, ", "), " which are not on disk"));
  }
  if (selection.versions.empty()) {
    return absl::NotFoundError(
        absl::StrCat("model '", model.name,
                     "': no version on disk matches its version_policy"
                     " (on disk: ",
                     absl::StrJoin(model.versions, ", "), ")"));
  }
  p.versions = std::move(selection.versions);

  // The backend reads what the user left out from the newest model file.
  if (p.library && !p.backend.model_filename.empty()) {
    const std::string file = (fs::path(model.VersionPath(p.versions.back())) /
                              p.backend.model_filename)
                                 .string();
    std::error_code ec;
    if (fs::exists(file, ec)) {
      ASSIGN_OR_RETURN(auto json,
                       AutocompleteFromBackend(*p.library, file, p.config),
                       WithModel(model.name, _));
      if (!json.empty()) {
        RETURN_IF_ERROR(
            MergeAutoCompleteJson(json, p.backend.plugin, &p.config),
            WithModel(model.name, _));
      }
    }
  }

  FinalizeOptions finalize;
  finalize.model_name = model.name;
  finalize.defaults = options_.defaults;
  ASSIGN_OR_RETURN(auto warnings, FinalizeModelConfig(finalize, &p.config));
  p.warnings.insert(p.warnings.end(), warnings.begin(), warnings.end());
  return p;
}

std::vector<std::string> BackendVersionLoader::Dependencies(
    const ScannedModel& model) {
  auto read = ReadModelConfig(model.path);
  if (!read.ok() || !read->has_value()) return {};
  return EnsembleStepModels(**read);
}

absl::StatusOr<ModelHandle> BackendVersionLoader::LoadEnsemble(
    const ScannedModel& model, const PreparedModel& prepared, int64_t version) {
  if (options_.steps == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "model '", model.name, "': this server cannot run ensembles"));
  }
  ASSIGN_OR_RETURN(ModelSpec spec, ModelSpec::FromConfig(prepared.config));
  StepDispatcher* steps = options_.steps;
  ASSIGN_OR_RETURN(
      EnsemblePlan plan,
      BuildEnsemblePlan(spec, prepared.config.ensemble_scheduling(),
                        [steps](std::string_view name, int64_t v) {
                          return steps->StepSpec(name, v);
                        }));
  ModelVersionOptions vo;
  vo.name = model.name;
  vo.version = version;
  vo.config = prepared.config;
  vo.backend = prepared.backend;
  vo.spec = std::move(spec);
  ASSIGN_OR_RETURN(vo.labels, ReadLabels(model, prepared.config));
  vo.metrics = options_.metrics;
  vo.step_models = prepared.dependencies;
  const uint32_t configured =
      prepared.config.ensemble_scheduling().max_inflight_requests();
  const uint32_t inflight =
      configured > 0 ? configured : options_.ensemble_max_inflight;
  auto created = std::make_unique<ModelVersion>(std::move(vo));
  created->StartScheduler(std::make_unique<EnsembleExecutor>(
      std::make_shared<const EnsemblePlan>(std::move(plan)), steps, inflight));
  return MakeModelHandle(std::move(created), options_.reaper);
}

absl::StatusOr<ModelHandle> BackendVersionLoader::Load(
    const ScannedModel& model, const PreparedModel& prepared, int64_t version,
    std::shared_ptr<const void> files_owner) {
  if (IsEnsemble(prepared.config)) {
    return LoadEnsemble(model, prepared, version);
  }
  const int64_t rss_before = ResidentBytes();
  BackendModelOptions options;
  options.name = model.name;
  options.version = version;
  options.version_path = model.VersionPath(version);
  if (!prepared.backend.model_filename.empty()) {
    options.model_file =
        (fs::path(options.version_path) / prepared.backend.model_filename)
            .string();
    std::error_code ec;
    if (!fs::exists(options.model_file, ec)) {
      return absl::NotFoundError(
          absl::StrCat("model '", model.name, "' version ", version,
                       ": model file ", options.model_file, " does not exist"));
    }
  }
  options.config = prepared.config;
  uint32_t total = 0;
  for (const auto& g : prepared.config.instance_group()) {
    const uint32_t devices = g.kind() == inference::ModelInstanceGroup::KIND_GPU
                                 ? std::max(1, g.gpus_size())
                                 : 1;
    total += static_cast<uint32_t>(g.count()) * devices;
  }
  options.instance_count = std::max<uint32_t>(1, total);

  ASSIGN_OR_RETURN(std::shared_ptr<BackendModel> backend_model,
                   BackendModel::Create(prepared.library, options));

  std::vector<std::unique_ptr<BackendInstance>> instances;
  uint32_t index = 0;
  for (const auto& g : prepared.config.instance_group()) {
    const bool gpu = g.kind() == inference::ModelInstanceGroup::KIND_GPU;
    std::vector<int32_t> devices;
    if (gpu) devices.assign(g.gpus().begin(), g.gpus().end());
    if (devices.empty()) devices.push_back(gpu ? 0 : -1);
    for (int32_t device : devices) {
      for (int32_t c = 0; c < g.count(); ++c) {
        ASSIGN_OR_RETURN(auto instance,
                         backend_model->CreateInstance(
                             gpu ? SERVAL_INSTANCE_GPU : SERVAL_INSTANCE_CPU,
                             device, index++));
        instances.push_back(std::move(instance));
      }
    }
  }
  if (instances.empty()) {
    ASSIGN_OR_RETURN(auto instance,
                     backend_model->CreateInstance(SERVAL_INSTANCE_CPU, -1, 0));
    instances.push_back(std::move(instance));
  }

  ModelVersionOptions vo;
  vo.name = model.name;
  vo.version = version;
  vo.config = prepared.config;
  vo.backend = prepared.backend;
  vo.spec = backend_model->io();
  ASSIGN_OR_RETURN(vo.labels, ReadLabels(model, prepared.config));
  vo.metrics = options_.metrics;
  auto created = std::make_unique<ModelVersion>(std::move(vo));
  created->set_files_owner(std::move(files_owner));
  // Calls to other models from a backend (BLS) take the steps' path.
  created->StartScheduler(std::make_unique<BackendExecutor>(
      std::move(backend_model), std::move(instances), options_.steps));
  ModelHandle handle = MakeModelHandle(std::move(created), options_.reaper);

  ASSIGN_OR_RETURN(
      auto samples,
      BuildWarmupSamples(prepared.config, handle->spec(), model.path),
      WithVersion(model.name, version, _));
  RETURN_IF_ERROR(RunWarmup(*handle, samples),
                  WithVersion(model.name, version, _));

  const int64_t rss_after = ResidentBytes();
  if (rss_before >= 0 && rss_after >= 0) {
    handle->set_load_memory_bytes(std::max<int64_t>(0, rss_after - rss_before));
  }
  return handle;
}

}  // namespace serval
