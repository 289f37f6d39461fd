// How an ensemble reaches the models of its steps: the server implements
// it, so that a step request is resolved, validated, scheduled, traced and
// counted exactly like a client's request, and each step runs through its
// own model's scheduler (dynamic batching and instances apply per step).
// Resolved per request, so a step model reloaded under load is picked up
// by the next request while the old version finishes the ones it has.
#ifndef SERVAL_ENSEMBLE_STEP_DISPATCHER_H_
#define SERVAL_ENSEMBLE_STEP_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/model_caller.h"
#include "config/model_spec.h"
#include "request/inference_request.h"

namespace serval {

// A backend's calls to other models (ModelCaller) are dispatched like
// steps: they belong to a request already admitted.
class StepDispatcher : public ModelCaller {
 public:
  // The spec of the version a request for (model, version) would run on
  // now (version -1: the latest ready one); NOT_FOUND / UNAVAILABLE when
  // there is none. For the load-time checks and for readiness.
  virtual absl::StatusOr<ModelSpec> StepSpec(std::string_view model,
                                             int64_t version) const = 0;

  // Runs `request` on (model, version) and answers `done` exactly once,
  // with an error if the model cannot be resolved. Never refused because
  // the server is draining: a step belongs to a request already admitted.
  virtual void InferStep(std::string_view model, int64_t version,
                         InferenceRequest request, InferCompletion* done) = 0;

  void Call(std::string_view model, int64_t version, InferenceRequest request,
            InferCompletion* done) override {
    InferStep(model, version, std::move(request), done);
  }
};

// Forwards to a dispatcher bound after construction: the loader that
// creates ensembles exists before the server that dispatches their steps.
// Bind before the first model loads; unbound, steps fail UNAVAILABLE.
class LateStepDispatcher final : public StepDispatcher {
 public:
  void Bind(StepDispatcher* target) { target_.store(target); }

  absl::StatusOr<ModelSpec> StepSpec(std::string_view model,
                                     int64_t version) const override;
  void InferStep(std::string_view model, int64_t version,
                 InferenceRequest request, InferCompletion* done) override;

 private:
  std::atomic<StepDispatcher*> target_{nullptr};
};

}  // namespace serval

#endif  // SERVAL_ENSEMBLE_STEP_DISPATCHER_H_
