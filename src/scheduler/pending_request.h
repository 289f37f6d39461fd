// A validated request waiting in (or moving through) a model's scheduler.
// Owned by exactly one place at a time: the queue, then a batch, then its
// RequestOwner, which gets it back exactly once whatever happened to it
// (answered, refused, dropped, failed). Not thread-safe.
#ifndef SERVAL_SCHEDULER_PENDING_REQUEST_H_
#define SERVAL_SCHEDULER_PENDING_REQUEST_H_

#include <cstdint>
#include <memory>

#include "request/inference_request.h"

namespace serval {

struct PendingRequest;
using PendingPtr = std::unique_ptr<PendingRequest>;

// Takes finished requests back from the scheduler: typically it delivers
// `response` to the requester's InferCompletion and releases what the
// request held. One owner serves many requests (the server, a warm-up run,
// an ensemble), so no per-request callback is allocated. Complete is called
// on any scheduler or caller thread and must not block.
class RequestOwner {
 public:
  virtual void Complete(PendingPtr request) = 0;

 protected:
  ~RequestOwner() = default;
};

struct PendingRequest {
  // Inputs in model input order (put there by the validator).
  InferenceRequest request;
  // Built up as the request moves; outputs are written by the batch.
  InferenceResponse response;
  RequestOwner* owner = nullptr;
  // The requester's completion, for the owner to call.
  InferCompletion* done = nullptr;
  // Whatever must outlive the request on the owner's behalf (for the
  // server: the model version the request runs on).
  std::shared_ptr<const void> keep_alive;
  // Items this request contributes to a batch (its first dim, or 1).
  int64_t batch_size = 1;
  // Queue index: 0 is the highest priority.
  uint32_t level = 0;
  // Arrival order, for preserve_ordering and FIFO within a level.
  uint64_t sequence = 0;
  uint64_t enqueue_ns = 0;
  // Absolute deadline on the scheduler's clock; 0 = none.
  uint64_t deadline_ns = 0;
  // When the owner first saw the request (access log, trace); 0 = unset.
  uint64_t start_ns = 0;
  // The batch it ran in, on the scheduler's clock (set by the scheduler):
  // start, inputs gathered, inference done, outputs scattered.
  uint64_t compute_start_ns = 0;
  uint64_t compute_input_end_ns = 0;
  uint64_t compute_output_start_ns = 0;
  uint64_t compute_end_ns = 0;
  // The owner's trace of this request; 0 = not traced.
  uint64_t trace_id = 0;
};

// Requests batch together only when they give the same inputs and those
// agree beyond the batch dim.
bool CompatibleShapes(const PendingRequest& a, const PendingRequest& b,
                      bool batching);

}  // namespace serval

#endif  // SERVAL_SCHEDULER_PENDING_REQUEST_H_
