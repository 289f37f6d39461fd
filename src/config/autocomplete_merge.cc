#include "config/autocomplete_merge.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "config/config_json.h"

namespace serval {
namespace {

// Fills the gaps of each user tensor from the model tensor of the same name.
template <typename Tensor>
void FillTensors(const google::protobuf::RepeatedPtrField<Tensor>& from,
                 google::protobuf::RepeatedPtrField<Tensor>* to) {
  if (to->empty()) {
    *to = from;
    return;
  }
  for (Tensor& mine : *to) {
    for (const Tensor& theirs : from) {
      if (theirs.name() != mine.name()) continue;
      if (mine.data_type() == inference::TYPE_INVALID) {
        mine.set_data_type(theirs.data_type());
      }
      if (mine.dims().empty()) *mine.mutable_dims() = theirs.dims();
      break;
    }
  }
}

}  // namespace

void MergeAutoComplete(const inference::ModelConfig& completed,
                       inference::ModelConfig* config) {
  FillTensors(completed.input(), config->mutable_input());
  FillTensors(completed.output(), config->mutable_output());
  if (!config->has_max_batch_size() && completed.has_max_batch_size()) {
    config->set_max_batch_size(completed.max_batch_size());
  }
  if (config->scheduling_choice_case() ==
          inference::ModelConfig::SCHEDULING_CHOICE_NOT_SET &&
      completed.has_dynamic_batching()) {
    *config->mutable_dynamic_batching() = completed.dynamic_batching();
  }
}

absl::Status MergeAutoCompleteJson(std::string_view json,
                                   std::string_view backend,
                                   inference::ModelConfig* config) {
  const std::string what = absl::StrCat("model '", config->name(),
                                        "': auto-complete output of "
                                        "backend '",
                                        ToAbsl(backend), "'");
  absl::StatusOr<inference::ModelConfig> completed =
      ModelConfigFromJson(json, what);
  if (!completed.ok()) return completed.status();
  MergeAutoComplete(*completed, config);
  return absl::OkStatus();
}

}  // namespace serval
