#include "config/config_validator.h"

#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "common/absl_compat.h"
#include "config/backend_resolution.h"
#include "config/tensor_validator.h"
#include "config/validation_problems.h"
#include "config/warmup_validator.h"

namespace serval {
namespace {

using inference::ModelInstanceGroup;

// Every instance is a thread (and for some backends a process): bounded
// before anything is created, so one config cannot exhaust the server.
constexpr int64_t kMaxInstances = 256;

void ValidateInstanceGroups(const inference::ModelConfig& config,
                            ValidationProblems* problems) {
  int64_t total = 0;
  for (int i = 0; i < config.instance_group_size(); ++i) {
    const ModelInstanceGroup& group = config.instance_group(i);
    const std::string path = absl::StrCat("instance_group[", i, "]");
    if (group.count() < 0) {
      problems->Add(path + ".count",
                    absl::StrCat("is ", group.count(),
                                 "; expected 1 or more (0 means 1)"));
    } else if (group.count() > kMaxInstances) {
      problems->Add(path + ".count",
                    absl::StrCat("is ", group.count(), "; expected at most ",
                                 kMaxInstances));
    } else {
      total += std::max<int64_t>(1, group.count()) *
               std::max<int64_t>(1, group.gpus_size());
    }
    const auto kind = group.kind();
    if (kind != ModelInstanceGroup::KIND_CPU &&
        kind != ModelInstanceGroup::KIND_GPU &&
        kind != ModelInstanceGroup::KIND_AUTO &&
        kind != ModelInstanceGroup::KIND_MODEL) {
      problems->Add(path + ".kind",
                    absl::StrCat("is ", static_cast<int>(kind),
                                 "; expected KIND_CPU, KIND_GPU or KIND_AUTO"));
    }
    for (int g = 0; g < group.gpus_size(); ++g) {
      if (group.gpus(g) < 0) {
        problems->Add(
            absl::StrCat(path, ".gpus[", g, "]"),
            absl::StrCat("is ", group.gpus(g), "; expected a GPU id >= 0"));
      }
    }
    if (kind == ModelInstanceGroup::KIND_CPU && !group.gpus().empty()) {
      problems->Add(path + ".gpus",
                    "is set on a KIND_CPU group; expected gpus only with "
                    "KIND_GPU or KIND_AUTO");
    }
  }
  if (total > kMaxInstances) {
    problems->Add(
        "instance_group",
        absl::StrCat("asks for ", total, " instances in all; expected at most ",
                     kMaxInstances));
  }
}

// The model file is looked up inside each version directory: a name that
// could leave it (a path, "..") is refused, so a config, including one sent
// with a load request, cannot make the server open files elsewhere.
void ValidateModelFilename(const inference::ModelConfig& config,
                           ValidationProblems* problems) {
  const std::string& name = config.default_model_filename();
  if (!name.empty() && !IsPlainFileName(name)) {
    problems->Add("default_model_filename",
                  "must be a file name inside the version directory, "
                  "without '/' and not '.' or '..'");
  }
}

void ValidatePriorities(const inference::ModelDynamicBatching& batching,
                        ValidationProblems* problems) {
  const uint64_t levels = batching.priority_levels();
  const uint64_t default_level = batching.default_priority_level();
  if (levels == 0 && default_level != 0) {
    problems->Add("dynamic_batching.default_priority_level",
                  absl::StrCat("is ", default_level,
                               " but priority_levels is 0; expected "
                               "priority_levels >= ",
                               default_level));
  } else if (levels > 0 && (default_level < 1 || default_level > levels)) {
    problems->Add("dynamic_batching.default_priority_level",
                  absl::StrCat("is ", default_level, "; expected 1..", levels,
                               " (priority_levels)"));
  }
  for (const auto& [level, policy] : batching.priority_queue_policy()) {
    if (level >= 1 && level <= levels) continue;
    problems->Add(
        absl::StrCat("dynamic_batching.priority_queue_policy[", level, "]"),
        levels == 0
            ? std::string("is set but priority_levels is 0; expected "
                          "priority_levels to cover it")
            : absl::StrCat("is not a priority level; expected 1..", levels));
  }
}

void ValidateDynamicBatching(const inference::ModelConfig& config,
                             ValidationProblems* problems) {
  if (!config.has_dynamic_batching()) return;
  const inference::ModelDynamicBatching& batching = config.dynamic_batching();
  const int32_t max_batch = config.max_batch_size();
  if (max_batch <= 0) {
    problems->Add("dynamic_batching",
                  "is set but max_batch_size is 0; expected max_batch_size "
                  ">= 1 for a model that batches");
  }
  for (int i = 0; i < batching.preferred_batch_size_size(); ++i) {
    const int32_t size = batching.preferred_batch_size(i);
    if (size >= 1 && size <= max_batch) continue;
    problems->Add(
        absl::StrCat("dynamic_batching.preferred_batch_size[", i, "]"),
        absl::StrCat("is ", size, "; expected 1..", max_batch,
                     " (max_batch_size)"));
  }
  if (batching.max_queue_delay_microseconds() > kMaxQueueDelayMicros) {
    problems->Add(
        "dynamic_batching.max_queue_delay_microseconds",
        absl::StrCat("is ", batching.max_queue_delay_microseconds(),
                     "; expected at most ", kMaxQueueDelayMicros, " (10 s)"));
  }
  ValidatePriorities(batching, problems);
}

// A parameter holding milliseconds: a number, at least `min_ms`, at most
// an hour.
void ValidateMilliseconds(const inference::ModelConfig& config,
                          const std::string& key, double min_ms,
                          const char* expected, ValidationProblems* problems) {
  auto it = config.parameters().find(key);
  if (it == config.parameters().end()) return;
  double ms = 0;
  if (!absl::SimpleAtod(it->second.string_value(), &ms) || !(ms >= min_ms) ||
      ms > 3'600'000) {
    problems->Add(absl::StrCat("parameters[", key, "]"),
                  absl::StrCat("is '", it->second.string_value(),
                               "'; expected ", expected));
  }
}

// Parameters serval itself reads (backends check their own).
void ValidateServalParameters(const inference::ModelConfig& config,
                              ValidationProblems* problems) {
  ValidateMilliseconds(config, "queue_budget_ms", 0,
                       "a number of milliseconds up to 3600000 (0: no bound "
                       "in time)",
                       problems);
  ValidateMilliseconds(config, "latency_target_ms", 0.001,
                       "a positive number of milliseconds up to 3600000",
                       problems);
  if (config.parameters().contains("latency_target_ms") &&
      config.max_batch_size() > 0 && !config.has_dynamic_batching()) {
    problems->Add("parameters[latency_target_ms]",
                  "chooses dynamic batches; the config needs "
                  "dynamic_batching { }");
  }
}

// What an ensemble's config may hold; its steps are checked against their
// models when it loads (ensemble/ensemble_plan.h).
void ValidateEnsembleFields(const inference::ModelConfig& config,
                            ValidationProblems* problems) {
  const bool ensemble = config.platform() == "ensemble";
  if (!ensemble) {
    if (config.has_ensemble_scheduling()) {
      problems->Add("ensemble_scheduling",
                    "is set, but platform is not 'ensemble'");
    }
    return;
  }
  if (config.ensemble_scheduling().step().empty()) {
    problems->Add("ensemble_scheduling",
                  "has no step; an ensemble needs at least one");
  }
  if (!config.instance_group().empty()) {
    problems->Add("instance_group",
                  "is set; an ensemble has no instances of its own (its "
                  "steps' models do)");
  }
  if (config.has_dynamic_batching()) {
    problems->Add("dynamic_batching",
                  "is set; an ensemble does not batch, its steps do: set "
                  "dynamic_batching on the step models");
  }
}

void ValidateVersionPolicy(const inference::ModelConfig& config,
                           ValidationProblems* problems) {
  const inference::ModelVersionPolicy& policy = config.version_policy();
  if (policy.has_latest() && policy.latest().num_versions() < 1) {
    problems->Add("version_policy.latest.num_versions",
                  "is 0; expected 1 or more");
  }
  if (!policy.has_specific()) return;
  const auto& versions = policy.specific().versions();
  if (versions.empty()) {
    problems->Add("version_policy.specific.versions",
                  "is empty; expected at least one version number");
  }
  std::set<int64_t> seen;
  for (int i = 0; i < versions.size(); ++i) {
    const std::string path =
        absl::StrCat("version_policy.specific.versions[", i, "]");
    if (versions[i] < 0) {
      problems->Add(path, absl::StrCat("is ", versions[i],
                                       "; expected a version number >= 0"));
    } else if (!seen.insert(versions[i]).second) {
      problems->Add(path, absl::StrCat("repeats version ", versions[i],
                                       "; expected each version once"));
    }
  }
}

}  // namespace

absl::Status ValidateModelConfig(const inference::ModelConfig& config,
                                 std::string_view directory_name) {
  // Named as the repository knows it, even when the config disagrees.
  ValidationProblems problems(
      directory_name.empty() ? config.name() : std::string(directory_name));
  if (!config.name().empty() && !directory_name.empty() &&
      config.name() != directory_name) {
    problems.Add("name", absl::StrCat("is '", config.name(),
                                      "'; expected the model directory name '",
                                      ToAbsl(directory_name), "'"));
  }
  if (config.max_batch_size() < 0) {
    problems.Add("max_batch_size",
                 absl::StrCat("is ", config.max_batch_size(),
                              "; expected 0 (no batching) or more"));
  }
  ValidateTensors(config, &problems);
  ValidateInstanceGroups(config, &problems);
  ValidateModelFilename(config, &problems);
  ValidateDynamicBatching(config, &problems);
  ValidateVersionPolicy(config, &problems);
  ValidateWarmup(config, &problems);
  ValidateEnsembleFields(config, &problems);
  ValidateServalParameters(config, &problems);
  return problems.ToStatus();
}

}  // namespace serval
