// A validated request waiting in (or moving through) a model's scheduler.
// Owned by exactly one place at a time: the queue, then a batch, then the
// completion path. Not thread-safe.
#ifndef SERVAL_SCHEDULER_PENDING_REQUEST_H_
#define SERVAL_SCHEDULER_PENDING_REQUEST_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "request/inference_request.h"

namespace serval {

struct PendingRequest {
  InferenceRequest request;
  // One view per model input in model order (validated by the server).
  std::vector<TensorView> inputs;
  InferCallback done;
  // Built up as the request moves; outputs are written by the batch.
  InferenceResponse response;
  // Items this request contributes to a batch (its first dim, or 1).
  int64_t batch_size = 1;
  // Queue index: 0 is the highest priority.
  uint32_t level = 0;
  // Arrival order, for preserve_ordering and FIFO within a level.
  uint64_t sequence = 0;
  uint64_t enqueue_ns = 0;
  // Absolute deadline on the scheduler's clock; 0 = none.
  uint64_t deadline_ns = 0;
};

using PendingPtr = std::unique_ptr<PendingRequest>;

// Requests batch together only when all inputs agree beyond the batch dim.
bool CompatibleShapes(const PendingRequest& a, const PendingRequest& b,
                      bool batching);

}  // namespace serval

#endif  // SERVAL_SCHEDULER_PENDING_REQUEST_H_
