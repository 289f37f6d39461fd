#include "lifecycle/model_version.h"

#include <utility>

#include "scheduler/backend_executor.h"

namespace serval {

ModelVersion::ModelVersion(std::string name, int64_t version,
                           inference::ModelConfig config, BackendChoice backend,
                           std::shared_ptr<BackendModel> model)
    : name_(std::move(name)),
      version_(version),
      version_string_(std::to_string(version)),
      config_(std::move(config)),
      backend_(std::move(backend)),
      model_(std::move(model)) {}

ModelVersion::~ModelVersion() {
  // Workers first: they use the instances and the model.
  StopScheduler();
  scheduler_.reset();
}

void ModelVersion::StartScheduler(
    std::vector<std::unique_ptr<BackendInstance>> instances) {
  const size_t count = instances.size();
  auto executor =
      std::make_unique<BackendExecutor>(model_, std::move(instances));
  scheduler_ = std::make_unique<Scheduler>(
      SchedulerOptions::FromConfig(config_, count), std::move(executor),
      &stats_, Clock::Real(), metrics());
}

void ModelVersion::StopScheduler() {
  if (scheduler_) scheduler_->Stop();
}

}  // namespace serval
