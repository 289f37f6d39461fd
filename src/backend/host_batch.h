// HostBatch: the host side of a ServalBatch. It presents k requests to a
// backend as one batch: inputs gathered along the batch dimension (one copy
// into buffers the HostBatch keeps between batches, none at all when
// k == 1), outputs allocated on request and scattered back per request on
// completion.
//
// One HostBatch per backend instance, reused for every batch of that
// instance (an instance runs one batch at a time). Run hands the batch to
// the backend, which owns it until batch_complete, and returns once the
// backend has completed it, on whatever thread it did. Not thread-safe
// otherwise: the backend uses a batch from one thread at a time.
#ifndef SERVAL_BACKEND_HOST_BATCH_H_
#define SERVAL_BACKEND_HOST_BATCH_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "backend/model_caller.h"
#include "config/model_spec.h"
#include "request/inference_request.h"
#include "serval/backend.h"
#include "tensor/tensor.h"

namespace serval {

class BackendInstance;

// One request inside a batch, as the scheduler hands it over. The spans
// must stay valid until `done` runs.
struct BatchEntry {
  // One view per given input, in model input order (optional inputs may be
  // absent), batch dim included when the model batches.
  std::span<const TensorView> inputs;
  // Outputs wanted by this request; empty means every model output.
  std::span<const std::string> requested_outputs;
  // Receives the request's outputs on success.
  std::vector<OutputTensor>* outputs = nullptr;
  // Receives the request's own failure when the backend fails it alone
  // (batch_request_fail); untouched otherwise. May be null.
  absl::Status* status = nullptr;
  // The client's request id and timeout, and the deadline the scheduler
  // set (CLOCK_MONOTONIC ns, 0 = none), for the backend to see.
  const std::string* id = nullptr;
  const std::string* parameters_json = nullptr;
  uint64_t timeout_us = 0;
  uint64_t deadline_ns = 0;
};

// Monotonic timestamps of a batch's phases, in nanoseconds.
struct BatchTimes {
  uint64_t start_ns = 0;
  uint64_t input_end_ns = 0;
  uint64_t infer_end_ns = 0;
  uint64_t end_ns = 0;
};

struct BatchResult {
  absl::Status status;
  BatchTimes times;
};

class HostBatch {
 public:
  // `spec` must outlive the HostBatch.
  explicit HostBatch(const ModelSpec& spec);
  HostBatch(const HostBatch&) = delete;
  HostBatch& operator=(const HostBatch&) = delete;

  // Gathers the entries, executes them on `instance` and waits until the
  // backend completed the batch; outputs are then scattered into each
  // entry. The entries must stay valid until Run returns.
  BatchResult Run(BackendInstance& instance,
                  std::span<const BatchEntry> entries);

  // The ABI callbacks (see include/serval/backend.h).
  uint32_t request_count() const { return entries_.size(); }
  void Inputs(const ServalTensor** inputs, uint32_t* count) const;
  void RequestedOutputs(const char* const** names, uint32_t* count) const;
  absl::Status OutputBuffer(const char* name, int32_t datatype,
                            const int64_t* shape, uint32_t rank,
                            uint64_t byte_size, void** buffer);
  void ReportTimes(uint64_t input_end_ns, uint64_t infer_end_ns);
  uint64_t RequestItems(uint32_t index) const;
  void FailRequest(uint32_t index, absl::Status status);
  const char* RequestId(uint32_t index) const;
  uint64_t RequestTimeoutUs(uint32_t index) const;
  const char* RequestParameters(uint32_t index) const;
  uint64_t DeadlineNs() const;
  // What host->infer reaches other models through; null: it fails.
  void set_caller(ModelCaller* caller) { caller_ = caller; }
  ModelCaller* caller() const { return caller_; }
  // Scatters and wakes Run. The backend must not touch the batch after.
  void Complete(absl::Status status);

  static HostBatch* FromAbi(ServalBatch* b) {
    return reinterpret_cast<HostBatch*>(b);
  }
  ServalBatch* ToAbi() { return reinterpret_cast<ServalBatch*>(this); }

 private:
  void Reset(std::span<const BatchEntry> entries);
  absl::Status Gather();
  absl::Status Scatter();
  bool EntryWants(const BatchEntry& entry, const std::string& name) const;
  int64_t EntryBatchSize(const BatchEntry& entry) const;

  // One output the backend allocated.
  struct Allocated {
    bool allocated = false;
    Shape shape;
    uint64_t byte_size = 0;
  };

  const ModelSpec& io_;
  ModelCaller* caller_ = nullptr;
  // Gather and scatter buffers, kept between batches.
  std::vector<TensorBuffer> input_buffers_;
  std::vector<TensorBuffer> output_buffers_;
  std::span<const BatchEntry> entries_;
  BatchTimes times_;
  int64_t total_batch_ = 0;
  std::vector<int64_t> entry_batch_;          // batch size per entry
  std::vector<absl::Status> entry_failures_;  // batch_request_fail
  std::vector<Shape> input_shapes_;           // backing for inputs_
  std::vector<ServalTensor> inputs_;          // the given inputs, model order
  std::vector<size_t> input_index_;           // model input of each of inputs_
  std::vector<const char*> requested_;        // union, model order
  std::vector<bool> requested_mask_;          // per model output
  std::vector<Allocated> allocated_;          // per model output

  // Completion hand-off from the backend's thread to Run.
  absl::Mutex mu_;
  bool completed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace serval

#endif  // SERVAL_BACKEND_HOST_BATCH_H_
