#include "lifecycle/model_version.h"

#include <utility>

#include "scheduler/scheduler_options.h"

namespace serval {

ModelVersion::ModelVersion(ModelVersionOptions options)
    : name_(std::move(options.name)),
      version_(options.version),
      version_string_(std::to_string(options.version)),
      config_(std::move(options.config)),
      backend_(std::move(options.backend)),
      spec_(std::move(options.spec)),
      labels_(std::move(options.labels)),
      step_models_(std::move(options.step_models)),
      clock_(options.clock),
      metrics_enabled_(options.metrics.enabled),
      metrics_(options.metrics) {}

ModelVersion::~ModelVersion() {
  // Workers first: they use the instances and the model.
  StopScheduler();
  scheduler_.reset();
}

void ModelVersion::StartScheduler(std::unique_ptr<BatchExecutor> executor) {
  const size_t count = executor->instance_count();
  scheduler_ = std::make_unique<Scheduler>(
      SchedulerOptions::FromConfig(config_, count), std::move(executor),
      &stats_, clock_, metrics());
}

void ModelVersion::StopScheduler() {
  if (scheduler_) scheduler_->Stop();
}

}  // namespace serval
