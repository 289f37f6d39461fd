#include "config/unsupported_fields.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace serval {
namespace {

// Accumulates field paths in the two severities.
class Findings {
 public:
  void Error(std::string path, std::string why) {
    errors_.push_back(absl::StrCat("'", path, "' (", why, ")"));
  }
  void Warn(std::string path) { warnings_.push_back(std::move(path)); }

  absl::StatusOr<std::vector<std::string>> Result(
      const inference::ModelConfig& config) && {
    if (!errors_.empty()) {
      return absl::UnimplementedError(absl::StrCat(
          "model '", config.name(), "': serval does not implement ",
          absl::StrJoin(errors_, ", "),
          "; ignoring it would change results, so the model is not loaded"));
    }
    std::vector<std::string> lines;
    lines.reserve(warnings_.size());
    for (const std::string& path : warnings_) {
      lines.push_back(absl::StrCat("model '", config.name(), "': field '", path,
                                   "' is not implemented by serval and is "
                                   "ignored"));
    }
    return lines;
  }

 private:
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

void CheckTensors(const inference::ModelConfig& config, Findings* findings) {
  for (int i = 0; i < config.input_size(); ++i) {
    const inference::ModelInput& input = config.input(i);
    const std::string path = absl::StrCat("input[", i, "]");
    if (input.is_shape_tensor()) {
      findings->Error(path + ".is_shape_tensor", "shape tensors");
    }
    if (input.allow_ragged_batch()) {
      findings->Error(path + ".allow_ragged_batch", "ragged batching");
    }
    if (input.is_non_linear_format_io()) {
      findings->Error(path + ".is_non_linear_format_io",
                      "non-linear TensorRT I/O formats");
    }
    // `format` (NCHW, NHWC) only describes the tensor for clients, which
    // read it from the config; Triton does not act on it either.
  }
  for (int i = 0; i < config.output_size(); ++i) {
    const inference::ModelOutput& output = config.output(i);
    const std::string path = absl::StrCat("output[", i, "]");
    if (output.is_shape_tensor()) {
      findings->Error(path + ".is_shape_tensor", "shape tensors");
    }
    if (output.is_non_linear_format_io()) {
      findings->Error(path + ".is_non_linear_format_io",
                      "non-linear TensorRT I/O formats");
    }
  }
}

void CheckInstanceGroups(const inference::ModelConfig& config,
                         Findings* findings) {
  for (int i = 0; i < config.instance_group_size(); ++i) {
    const inference::ModelInstanceGroup& group = config.instance_group(i);
    const std::string path = absl::StrCat("instance_group[", i, "]");
    // The backend ABI creates instances on a CPU or a given GPU; a backend
    // that places itself would run somewhere serval cannot account for.
    if (group.kind() == inference::ModelInstanceGroup::KIND_MODEL) {
      findings->Error(path + ".kind",
                      "KIND_MODEL; use KIND_CPU, KIND_GPU or KIND_AUTO");
    }
    if (group.has_rate_limiter()) findings->Warn(path + ".rate_limiter");
    if (!group.host_policy().empty()) findings->Warn(path + ".host_policy");
    if (!group.secondary_devices().empty()) {
      findings->Warn(path + ".secondary_devices");
    }
    if (group.passive()) findings->Warn(path + ".passive");
    if (!group.profile().empty()) findings->Warn(path + ".profile");
  }
}

void CheckModelLevel(const inference::ModelConfig& config, Findings* findings) {
  if (config.has_sequence_batching()) {
    findings->Error("sequence_batching", "stateful sequence scheduling");
  }
  if (!config.batch_input().empty()) {
    findings->Error("batch_input", "backend-generated batch inputs");
  }
  if (!config.batch_output().empty()) {
    findings->Error("batch_output", "backend-scattered batch outputs");
  }
  if (config.model_transaction_policy().decoupled()) {
    findings->Error("model_transaction_policy.decoupled",
                    "decoupled responses");
  }
  if (!config.model_repository_agents().agents().empty()) {
    findings->Error("model_repository_agents", "repository agents");
  }
  if (!config.runtime().empty()) {
    findings->Error("runtime", "choosing the backend library by file name");
  }
  if (!config.model_operations().op_library_filename().empty()) {
    findings->Error("model_operations", "custom operator libraries");
  }
  if (config.has_optimization()) findings->Warn("optimization");
  if (config.response_cache().enable()) findings->Warn("response_cache");
  if (!config.cc_model_filenames().empty()) {
    findings->Warn("cc_model_filenames");
  }
  if (!config.metric_tags().empty()) findings->Warn("metric_tags");
  if (config.has_model_metrics()) findings->Warn("model_metrics");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CheckUnsupportedFields(
    const inference::ModelConfig& config) {
  Findings findings;
  CheckModelLevel(config, &findings);
  CheckTensors(config, &findings);
  CheckInstanceGroups(config, &findings);
  return std::move(findings).Result(config);
}

}  // namespace serval
