#include "config/config_defaults.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace serval {
namespace {

using inference::ModelInstanceGroup;

bool AllGpusVisible(const ModelInstanceGroup& group, int visible_gpus) {
  if (visible_gpus <= 0) return false;
  for (int gpu : group.gpus()) {
    if (gpu >= visible_gpus) return false;
  }
  return true;
}

absl::Status ApplyGroupDefaults(const std::string& model_name, int index,
                                const DefaultsOptions& options,
                                ModelInstanceGroup* group) {
  if (group->count() == 0) group->set_count(1);
  if (group->name().empty()) {
    group->set_name(absl::StrCat(model_name, "_", index));
  }
  if (group->kind() == ModelInstanceGroup::KIND_AUTO) {
    group->set_kind(AllGpusVisible(*group, options.visible_gpus)
                        ? ModelInstanceGroup::KIND_GPU
                        : ModelInstanceGroup::KIND_CPU);
  }
  if (group->kind() != ModelInstanceGroup::KIND_GPU) return absl::OkStatus();

  const std::string label =
      absl::StrCat("model '", model_name, "': instance_group[", index, "] '",
                   group->name(), "'");
  if (options.visible_gpus <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(label,
                     ": kind is KIND_GPU but no GPU is visible to serval; use "
                     "KIND_CPU or KIND_AUTO"));
  }
  for (int gpu : group->gpus()) {
    if (gpu >= options.visible_gpus) {
      return absl::InvalidArgumentError(absl::StrCat(
          label, ": gpus lists GPU ", gpu, " but only ", options.visible_gpus,
          " GPU(s) are visible (ids 0..", options.visible_gpus - 1, ")"));
    }
  }
  if (group->gpus().empty()) {
    for (int gpu = 0; gpu < options.visible_gpus; ++gpu) group->add_gpus(gpu);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyConfigDefaults(std::string_view model_name,
                                 const DefaultsOptions& options,
                                 inference::ModelConfig* config) {
  if (config->name().empty()) config->set_name(std::string(model_name));
  if (!config->has_max_batch_size()) config->set_max_batch_size(0);
  if (!config->has_version_policy()) {
    config->mutable_version_policy()->mutable_latest()->set_num_versions(1);
  }

  // An ensemble has no instances of its own: its steps' models do.
  if (config->instance_group().empty() && config->platform() != "ensemble") {
    ModelInstanceGroup* group = config->add_instance_group();
    group->set_count(1);
    group->set_kind(ModelInstanceGroup::KIND_CPU);
  }
  for (int i = 0; i < config->instance_group_size(); ++i) {
    RETURN_IF_ERROR(ApplyGroupDefaults(config->name(), i, options,
                                       config->mutable_instance_group(i)));
  }

  if (config->has_dynamic_batching()) {
    inference::ModelDynamicBatching* batching =
        config->mutable_dynamic_batching();
    if (batching->priority_levels() > 0 &&
        batching->default_priority_level() == 0) {
      batching->set_default_priority_level(batching->priority_levels());
    }
  }

  for (inference::ModelWarmup& warmup : *config->mutable_model_warmup()) {
    if (warmup.batch_size() == 0) warmup.set_batch_size(1);
  }
  return absl::OkStatus();
}

}  // namespace serval
