// Runs one batch synchronously through the real host implementation
// (HostBatch), without a scheduler: for the plugin tests and the offline
// benchmark. The server, warm-up included, goes through the scheduler.
// Blocks the calling thread until the backend completes.
#ifndef SERVAL_BACKEND_SYNC_RUNNER_H_
#define SERVAL_BACKEND_SYNC_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backend/backend_model.h"
#include "request/inference_request.h"

namespace serval {

// `inputs` are in any order (matched by name) and include the batch
// dimension when the model batches; optional ones may be left out. Empty
// `requested_outputs` = all.
absl::StatusOr<std::vector<OutputTensor>> RunBatchSync(
    BackendInstance& instance, std::vector<TensorView> inputs,
    std::vector<std::string> requested_outputs = {});

}  // namespace serval

#endif  // SERVAL_BACKEND_SYNC_RUNNER_H_
