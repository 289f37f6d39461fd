#include "ensemble/step_dispatcher.h"

#include <utility>

namespace serval {
namespace {

absl::Status Unbound() {
  return absl::UnavailableError(
      "ensemble steps cannot run: no server is bound to dispatch them");
}

}  // namespace

absl::StatusOr<ModelSpec> LateStepDispatcher::StepSpec(std::string_view model,
                                                       int64_t version) const {
  StepDispatcher* target = target_.load();
  if (target == nullptr) return Unbound();
  return target->StepSpec(model, version);
}

void LateStepDispatcher::InferStep(std::string_view model, int64_t version,
                                   InferenceRequest request,
                                   InferCompletion* done) {
  StepDispatcher* target = target_.load();
  if (target != nullptr) {
    target->InferStep(model, version, std::move(request), done);
    return;
  }
  InferenceResponse response;
  response.status = Unbound();
  done->OnInferComplete(std::move(response));
}

}  // namespace serval
