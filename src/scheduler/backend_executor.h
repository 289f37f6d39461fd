// BatchExecutor over real backend instances: turns a batch of pending
// requests into a HostBatch on the instance's plugin. Owns the instances
// and one set of reusable gather/scatter buffers per instance.
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
  BackendExecutor(std::shared_ptr<BackendModel> model,
                  std::vector<std::unique_ptr<BackendInstance>> instances);
  size_t instance_count() const override { return instances_.size(); }
  void Execute(size_t instance, std::span<PendingPtr> batch,
               BatchDoneFn done) override;

 private:
  std::shared_ptr<BackendModel> model_;
  std::vector<std::unique_ptr<BackendInstance>> instances_;
  std::vector<BatchScratch> scratch_;
};

}  // namespace serval

#endif  // SERVAL_SCHEDULER_BACKEND_EXECUTOR_H_
