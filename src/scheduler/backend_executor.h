// BatchExecutor over real backend instances: turns a batch of pending
// requests into a HostBatch on the instance's plugin. Owns the instances
// and, per instance, the HostBatch and entry list it reuses for every batch.
#ifndef SERVAL_SCHEDULER_BACKEND_EXECUTOR_H_
#define SERVAL_SCHEDULER_BACKEND_EXECUTOR_H_

#include <memory>
#include <vector>

#include "backend/backend_model.h"
#include "backend/host_batch.h"
#include "scheduler/scheduler.h"

namespace serval {

class BackendExecutor : public BatchExecutor {
 public:
  // `caller` (may be null; must outlive the executor) is what the
  // backend's calls to other models (host->infer) go through.
  BackendExecutor(std::shared_ptr<BackendModel> model,
                  std::vector<std::unique_ptr<BackendInstance>> instances,
                  ModelCaller* caller = nullptr);
  size_t instance_count() const override { return slots_.size(); }
  BatchResult Execute(size_t instance, std::span<PendingPtr> batch) override;

 private:
  struct Slot {
    std::unique_ptr<BackendInstance> instance;
    std::unique_ptr<HostBatch> batch;
    std::vector<BatchEntry> entries;
  };
  std::shared_ptr<BackendModel> model_;
  std::vector<Slot> slots_;
};

}  // namespace serval

#endif  // SERVAL_SCHEDULER_BACKEND_EXECUTOR_H_
