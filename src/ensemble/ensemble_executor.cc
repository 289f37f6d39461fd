#include "ensemble/ensemble_executor.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace serval {
namespace {

// The state of one ensemble request while its steps run. The worker
// dispatches and waits; step completions arrive on the steps' threads.
class EnsembleRun {
 public:
  EnsembleRun(const EnsemblePlan& plan, const PendingRequest& request)
      : plan_(plan),
        produced_(plan.tensors.size()),
        views_(plan.tensors.size()),
        available_(plan.tensors.size(), false),
        waiting_(plan.steps.size(), 0) {
    calls_.reserve(plan.steps.size());
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      calls_.push_back(StepCall{this, s});
    }
    // The ensemble's inputs are views into the request; an optional input
    // left out counts as available and absent, so its steps still start.
    for (size_t i = 0; i < plan.input_tensors.size(); ++i) {
      available_[plan.input_tensors[i]] = true;
    }
    for (const TensorView& in : request.request.inputs) {
      for (size_t t : plan.input_tensors) {
        if (plan.tensors[t].name == in.name) views_[t] = in;
      }
    }
    absl::MutexLock lock(&mu_);
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      for (const auto& b : plan.steps[s].inputs) {
        if (!available_[b.tensor]) ++waiting_[s];
      }
      if (waiting_[s] == 0) ready_.push_back(s);
    }
  }

  // The next steps to start; empty once nothing more can start and no
  // step is in flight (all done, or failed).
  std::vector<size_t> NextReady() {
    absl::MutexLock lock(&mu_);
    // After a failure, only the steps in flight are waited for.
    auto runnable = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return in_flight_ == 0 || (failure_.ok() && !ready_.empty());
    };
    mu_.Await(absl::Condition(&runnable));
    std::vector<size_t> out;
    if (!failure_.ok()) {
      ready_.clear();
      return out;
    }
    out.swap(ready_);
    in_flight_ += out.size();
    return out;
  }

  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (failure_.ok()) failure_ = std::move(status);
  }

  // Abandons steps that were taken but not started (after a failure).
  void NotStarted(size_t count) {
    absl::MutexLock lock(&mu_);
    in_flight_ -= count;
  }

  absl::Status failure() {
    absl::MutexLock lock(&mu_);
    return failure_;
  }

  // The inputs of step `s`: views of available tensors, renamed to the
  // step model's names. Only called for steps whose inputs are available.
  std::vector<TensorView> StepInputs(size_t s) const {
    std::vector<TensorView> out;
    for (const auto& b : plan_.steps[s].inputs) {
      const TensorView& v = views_[b.tensor];
      if (v.data == nullptr && v.name.empty()) continue;  // optional, absent
      TensorView in = v;
      in.name = b.model_tensor;
      out.push_back(std::move(in));
    }
    return out;
  }

  InferCompletion* call(size_t s) { return &calls_[s]; }

  // Moves the produced tensor `t` out as output `name`.
  std::optional<OutputTensor> Take(size_t t, const std::string& name) {
    if (!produced_[t]) return std::nullopt;
    OutputTensor out = std::move(*produced_[t]);
    produced_[t].reset();
    out.name = name;
    return out;
  }

 private:
  struct StepCall final : InferCompletion {
    StepCall(EnsembleRun* r, size_t s) : run(r), step(s) {}
    void OnInferComplete(InferenceResponse response) override {
      run->OnStepDone(step, std::move(response));
    }
    EnsembleRun* run;
    size_t step;
  };

  void OnStepDone(size_t s, InferenceResponse response) {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (!response.status.ok()) {
      if (failure_.ok()) {
        failure_ = Annotate(response.status,
                            absl::StrCat("ensemble '", plan_.name, "' ",
                                         plan_.StepLabel(s), " failed"));
      }
      return;
    }
    for (const auto& b : plan_.steps[s].outputs) {
      OutputTensor* found = nullptr;
      for (OutputTensor& o : response.outputs) {
        if (o.name == b.model_tensor) found = &o;
      }
      if (found == nullptr) {
        if (failure_.ok()) {
          failure_ = absl::InternalError(
              absl::StrCat("ensemble '", plan_.name, "' ", plan_.StepLabel(s),
                           " returned no output '", b.model_tensor, "'"));
        }
        return;
      }
      // The buffer's bytes stay where they are: the views below and the
      // final move into the response all point at them.
      produced_[b.tensor] = std::move(*found);
      const OutputTensor& kept = *produced_[b.tensor];
      views_[b.tensor] =
          TensorView{plan_.tensors[b.tensor].name, kept.datatype, kept.shape,
                     kept.data.data(), kept.data.size()};
      available_[b.tensor] = true;
      for (size_t c : plan_.tensors[b.tensor].consumers) {
        if (--waiting_[c] == 0) ready_.push_back(c);
      }
    }
  }

  const EnsemblePlan& plan_;
  // Written by completions under mu_, read by the worker for steps whose
  // inputs are available (after it saw them become so under mu_).
  std::vector<std::optional<OutputTensor>> produced_;
  std::vector<TensorView> views_;
  std::vector<bool> available_;
  std::vector<StepCall> calls_;

  absl::Mutex mu_;
  std::vector<size_t> waiting_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> ready_ ABSL_GUARDED_BY(mu_);
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

EnsembleExecutor::EnsembleExecutor(std::shared_ptr<const EnsemblePlan> plan,
                                   StepDispatcher* steps, size_t max_inflight,
                                   const Clock* clock)
    : plan_(std::move(plan)),
      steps_(steps),
      max_inflight_(max_inflight > 0 ? max_inflight : 1),
      clock_(clock) {}

BatchResult EnsembleExecutor::Execute(size_t /*instance*/,
                                      std::span<PendingPtr> batch) {
  BatchResult result;
  result.times.start_ns = clock_->NowNs();
  result.times.input_end_ns = result.times.start_ns;
  // Ensembles do not batch (their steps do): one request per batch.
  for (PendingPtr& r : batch) {
    absl::Status status = Run(*r);
    if (result.status.ok()) result.status = std::move(status);
  }
  result.times.infer_end_ns = clock_->NowNs();
  result.times.end_ns = result.times.infer_end_ns;
  return result;
}

absl::Status EnsembleExecutor::Run(PendingRequest& pending) {
  const InferenceRequest& request = pending.request;
  EnsembleRun run(*plan_, pending);
  while (true) {
    std::vector<size_t> ready = run.NextReady();
    if (ready.empty()) break;
    for (size_t i = 0; i < ready.size(); ++i) {
      const size_t s = ready[i];
      const EnsembleStepPlan& step = plan_->steps[s];
      absl::Status stop;
      uint64_t timeout_us = 0;
      if (request.cancellation != nullptr &&
          request.cancellation->IsCancelled()) {
        stop = absl::CancelledError(absl::StrCat("ensemble '", plan_->name,
                                                 "': the request was "
                                                 "cancelled before ",
                                                 plan_->StepLabel(s)));
      } else if (pending.deadline_ns != 0) {
        const uint64_t now = clock_->NowNs();
        if (now >= pending.deadline_ns) {
          stop = absl::DeadlineExceededError(
              absl::StrCat("ensemble '", plan_->name,
                           "': the request's timeout passed "
                           "before ",
                           plan_->StepLabel(s)));
        } else {
          timeout_us =
              std::max<uint64_t>(1, (pending.deadline_ns - now) / 1000);
        }
      }
      if (!stop.ok()) {
        run.Fail(std::move(stop));
        run.NotStarted(ready.size() - i);
        break;
      }
      InferenceRequest sub;
      sub.model_name = step.model;
      sub.model_version = step.version;
      sub.id = request.id;
      sub.priority = request.priority;
      sub.timeout_us = timeout_us;
      sub.cancellation = request.cancellation;
      sub.inputs = run.StepInputs(s);
      sub.requested_outputs.reserve(step.outputs.size());
      for (const auto& b : step.outputs) {
        sub.requested_outputs.push_back(b.model_tensor);
      }
      // May complete inline (a step model that is not available).
      steps_->InferStep(step.model, step.version, std::move(sub), run.call(s));
    }
  }
  RETURN_IF_ERROR(run.failure());
  InferenceResponse& response = pending.response;
  for (size_t o = 0; o < plan_->output_tensors.size(); ++o) {
    const std::string& name = plan_->tensors[plan_->output_tensors[o]].name;
    bool wanted = request.requested_outputs.empty();
    for (const auto& n : request.requested_outputs)
      wanted = wanted || n == name;
    if (!wanted) continue;
    std::optional<OutputTensor> out = run.Take(plan_->output_tensors[o], name);
    if (!out) {
      return absl::InternalError(absl::StrCat("ensemble '", plan_->name,
                                              "': output '", name,
                                              "' was not produced"));
    }
    response.outputs.push_back(std::move(*out));
  }
  return absl::OkStatus();
}

}  // namespace serval
