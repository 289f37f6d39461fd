#include "ensemble/ensemble_executor.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace serval {
namespace {

// The state of one ensemble request while its steps run. The worker starts
// the first steps and waits; every later step is started by the completion
// of the step it waited for, on that step's thread (no hop back to the
// worker between steps). Shared: a completion keeps the run alive until it
// has let go of the mutex, even if the worker wakes and leaves first.
class EnsembleRun : public std::enable_shared_from_this<EnsembleRun> {
 public:
  EnsembleRun(const EnsemblePlan& plan, StepDispatcher* steps,
              const Clock* clock, const PendingRequest& pending)
      : plan_(plan),
        steps_(steps),
        clock_(clock),
        id_(pending.request.id),
        priority_(pending.request.priority),
        cancellation_(pending.request.cancellation),
        deadline_ns_(pending.deadline_ns),
        produced_(plan.tensors.size()),
        views_(plan.tensors.size()),
        waiting_(plan.steps.size(), 0) {
    calls_.reserve(plan.steps.size());
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      calls_.emplace_back(this, s);
    }
    // The ensemble's inputs are views into the request; an optional input
    // left out stays an empty view, and its consumers start without it.
    for (const TensorView& in : pending.request.inputs) {
      for (size_t t : plan.input_tensors) {
        if (plan.tensors[t].name == in.name) views_[t] = in;
      }
    }
  }

  // Runs every step; returns once none is in flight any more.
  absl::Status RunToEnd() {
    std::vector<size_t> first;
    {
      absl::MutexLock lock(&mu_);
      for (size_t s = 0; s < plan_.steps.size(); ++s) {
        for (const auto& b : plan_.steps[s].inputs) {
          if (plan_.tensors[b.tensor].producer >= 0) ++waiting_[s];
        }
        if (waiting_[s] == 0) first.push_back(s);
      }
      in_flight_ += first.size();
    }
    Start(first);
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return in_flight_ == 0;
    };
    mu_.Await(absl::Condition(&done));
    return failure_;
  }

  // Moves the produced tensor `t` out as output `name` (after RunToEnd).
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

  // Starts `steps`, which in_flight_ already counts.
  void Start(const std::vector<size_t>& steps) {
    for (size_t i = 0; i < steps.size(); ++i) {
      const size_t s = steps[i];
      absl::Status stop = CheckStillWanted(s);
      if (!stop.ok()) {
        absl::MutexLock lock(&mu_);
        if (failure_.ok()) failure_ = std::move(stop);
        in_flight_ -= steps.size() - i;
        return;
      }
      const EnsembleStepPlan& step = plan_.steps[s];
      InferenceRequest sub;
      sub.model_name = step.model;
      sub.model_version = step.version;
      sub.id = id_;
      sub.priority = priority_;
      sub.timeout_us = TimeLeftUs();
      sub.cancellation = cancellation_;
      for (const auto& b : step.inputs) {
        const TensorView& v = views_[b.tensor];
        if (v.name.empty()) continue;  // an optional input, left out
        sub.inputs.push_back(v);
        sub.inputs.back().name = b.model_tensor;
      }
      sub.requested_outputs.reserve(step.outputs.size());
      for (const auto& b : step.outputs) {
        sub.requested_outputs.push_back(b.model_tensor);
      }
      // May complete inline (a step model that is not available).
      steps_->InferStep(step.model, step.version, std::move(sub), &calls_[s]);
    }
  }

  absl::Status CheckStillWanted(size_t s) const {
    if (cancellation_ != nullptr && cancellation_->IsCancelled()) {
      return absl::CancelledError(absl::StrCat(
          "ensemble '", plan_.name, "': the request was cancelled before ",
          plan_.StepLabel(s)));
    }
    if (deadline_ns_ != 0 && clock_->NowNs() >= deadline_ns_) {
      return absl::DeadlineExceededError(absl::StrCat(
          "ensemble '", plan_.name, "': the request's timeout passed before ",
          plan_.StepLabel(s)));
    }
    return absl::OkStatus();
  }

  uint64_t TimeLeftUs() const {
    if (deadline_ns_ == 0) return 0;
    const uint64_t now = clock_->NowNs();
    return now >= deadline_ns_
               ? 1
               : std::max<uint64_t>(1, (deadline_ns_ - now) / 1000);
  }

  void OnStepDone(size_t s, InferenceResponse response) {
    // The worker may return as soon as in_flight_ drops to 0 below.
    std::shared_ptr<EnsembleRun> keep = shared_from_this();
    std::vector<size_t> next;
    {
      absl::MutexLock lock(&mu_);
      Record(s, response, &next);
      if (!failure_.ok()) next.clear();
      // The next steps count before this one stops counting, so the total
      // never touches zero while work remains.
      in_flight_ += next.size();
      --in_flight_;
    }
    Start(next);
  }

  void Record(size_t s, InferenceResponse& response, std::vector<size_t>* next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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
      for (size_t c : plan_.tensors[b.tensor].consumers) {
        if (--waiting_[c] == 0) next->push_back(c);
      }
    }
  }

  const EnsemblePlan& plan_;
  StepDispatcher* const steps_;
  const Clock* const clock_;
  // Copied from the request: completions read them after the worker left.
  const std::string id_;
  const uint32_t priority_;
  const CancellationFlag* const cancellation_;
  const uint64_t deadline_ns_;
  // Written under mu_ by the completion of a tensor's producer, read (for
  // the steps that consume it) after that completion made them ready.
  std::vector<std::optional<OutputTensor>> produced_;
  std::vector<TensorView> views_;
  std::vector<StepCall> calls_;

  absl::Mutex mu_;
  std::vector<size_t> waiting_ ABSL_GUARDED_BY(mu_);
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
  auto run = std::make_shared<EnsembleRun>(*plan_, steps_, clock_, pending);
  RETURN_IF_ERROR(run->RunToEnd());
  InferenceResponse& response = pending.response;
  for (size_t o = 0; o < plan_->output_tensors.size(); ++o) {
    const std::string& name = plan_->tensors[plan_->output_tensors[o]].name;
    bool wanted = request.requested_outputs.empty();
    for (const auto& n : request.requested_outputs)
      wanted = wanted || n == name;
    if (!wanted) continue;
    std::optional<OutputTensor> out = run->Take(plan_->output_tensors[o], name);
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
