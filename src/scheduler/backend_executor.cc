#include "scheduler/backend_executor.h"

#include <utility>

namespace serval {

BackendExecutor::BackendExecutor(
    std::shared_ptr<BackendModel> model,
    std::vector<std::unique_ptr<BackendInstance>> instances)
    : model_(std::move(model)),
      instances_(std::move(instances)),
      scratch_(instances_.size()) {}

void BackendExecutor::Execute(size_t instance, std::span<PendingPtr> batch,
                              BatchDoneFn done) {
  std::vector<BatchEntry> entries;
  entries.reserve(batch.size());
  for (auto& r : batch) {
    BatchEntry e;
    e.inputs = r->inputs;
    e.requested_outputs = r->request.requested_outputs;
    e.outputs = &r->response.outputs;
    entries.push_back(e);
  }
  HostBatch::Run(*instances_[instance], model_->io(), &scratch_[instance],
                 std::move(entries), std::move(done));
}

}  // namespace serval
