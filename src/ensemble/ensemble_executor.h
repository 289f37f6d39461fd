// Runs ensemble requests: the executor behind an ensemble version's
// scheduler. Each of its "instances" is one ensemble request in flight, so
// the scheduler's queue bound, priorities, timeouts, cancellation of queued
// requests, statistics and metrics apply to the ensemble as to any model,
// and the number of ensemble requests in flight (hence in every step) is
// bounded by max_inflight.
//
// The worker of a request starts the steps that read only the ensemble's
// inputs and waits; each later step is started, through the
// StepDispatcher, by the completion that made its last input available, on
// that completion's thread (steps that do not depend on each other run at
// once, and no thread hop back to the worker happens between steps);
// each step's outputs are kept as they came back and the next steps read
// them in place, without a copy; the ensemble's outputs are moved, not
// copied, into the response. The first failing step fails the request
// with its own code and a message naming the step; no further step starts.
// The request's id, priority, cancellation and what is left of its deadline
// go to every step.
#ifndef SERVAL_ENSEMBLE_ENSEMBLE_EXECUTOR_H_
#define SERVAL_ENSEMBLE_ENSEMBLE_EXECUTOR_H_

#include <memory>
#include <span>

#include "common/clock.h"
#include "ensemble/ensemble_plan.h"
#include "ensemble/step_dispatcher.h"
#include "scheduler/scheduler.h"

namespace serval {

class EnsembleExecutor final : public BatchExecutor {
 public:
  // `steps` and `clock` must outlive the executor; `clock` is the one the
  // version's scheduler sets deadlines with.
  EnsembleExecutor(std::shared_ptr<const EnsemblePlan> plan,
                   StepDispatcher* steps, size_t max_inflight,
                   const Clock* clock = Clock::Real());

  size_t instance_count() const override { return max_inflight_; }
  BatchResult Execute(size_t instance, std::span<PendingPtr> batch) override;

 private:
  absl::Status Run(PendingRequest& request);

  const std::shared_ptr<const EnsemblePlan> plan_;
  StepDispatcher* const steps_;
  const size_t max_inflight_;
  const Clock* const clock_;
};

}  // namespace serval

#endif  // SERVAL_ENSEMBLE_ENSEMBLE_EXECUTOR_H_
