#include "scheduler/backend_executor.h"

#include <utility>

namespace serval {

BackendExecutor::BackendExecutor(
    std::shared_ptr<BackendModel> model,
    std::vector<std::unique_ptr<BackendInstance>> instances,
    ModelCaller* caller)
    : model_(std::move(model)) {
  slots_.reserve(instances.size());
  for (auto& instance : instances) {
    Slot slot;
    slot.instance = std::move(instance);
    slot.batch = std::make_unique<HostBatch>(model_->io());
    slot.batch->set_caller(caller);
    slots_.push_back(std::move(slot));
  }
}

BatchResult BackendExecutor::Execute(size_t instance,
                                     std::span<PendingPtr> batch) {
  Slot& slot = slots_[instance];
  slot.entries.clear();
  for (auto& r : batch) {
    BatchEntry e;
    e.inputs = r->request.inputs;
    e.requested_outputs = r->request.requested_outputs;
    e.outputs = &r->response.outputs;
    e.status = &r->response.status;
    e.id = &r->request.id;
    e.parameters_json = &r->request.parameters_json;
    e.timeout_us = r->request.timeout_us;
    e.deadline_ns = r->deadline_ns;
    slot.entries.push_back(e);
  }
  return slot.batch->Run(*slot.instance, slot.entries);
}

}  // namespace serval
