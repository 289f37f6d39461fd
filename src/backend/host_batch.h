// HostBatch: the host side of a ServalBatch. It presents k requests to a
// backend as one batch: inputs gathered along the batch dimension (one copy
// into instance-owned scratch buffers, none at all when k == 1), outputs
// allocated on request and scattered back per request on completion.
//
// Lifetime: created by HostBatch::Run, owned by the backend from execute()
// until batch_complete, which reports through `done` and deletes the batch.
// Not thread-safe: the backend uses one batch from one thread at a time.
#ifndef SERVAL_BACKEND_HOST_BATCH_H_
#define SERVAL_BACKEND_HOST_BATCH_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config/model_spec.h"
#include "serval/backend.h"
#include "request/inference_request.h"
#include "tensor/tensor.h"

namespace serval {

class BackendInstance;

// One request inside a batch, as the scheduler hands it over. The spans
// must stay valid until `done` runs.
struct BatchEntry {
  // One view per model input, in model input order, batch dim included
  // when the model batches.
  std::span<const TensorView> inputs;
  // Outputs wanted by this request; empty means every model output.
  std::span<const std::string> requested_outputs;
  // Receives the request's outputs on success.
  std::vector<OutputTensor>* outputs = nullptr;
};

// Reusable buffers of one instance (an instance runs one batch at a time).
struct BatchScratch {
  std::vector<TensorBuffer> inputs;
  std::vector<TensorBuffer> outputs;
};

// Monotonic timestamps of a batch's phases, in nanoseconds.
struct BatchTimes {
  uint64_t start_ns = 0;
  uint64_t input_end_ns = 0;
  uint64_t infer_end_ns = 0;
  uint64_t end_ns = 0;
};

using BatchDoneFn = std::function<void(absl::Status, const BatchTimes&)>;

class HostBatch {
 public:
  // Gathers the entries and executes them on `instance`. `done` runs
  // exactly once (possibly before Run returns, possibly on another thread)
  // after outputs were scattered into each entry.
  static void Run(BackendInstance& instance, const ModelSpec& io,
                  BatchScratch* scratch, std::vector<BatchEntry> entries,
                  BatchDoneFn done);

  // The ABI callbacks (see include/serval/backend.h).
  uint32_t request_count() const { return entries_.size(); }
  void Inputs(const ServalTensor** inputs, uint32_t* count) const;
  void RequestedOutputs(const char* const** names, uint32_t* count) const;
  absl::Status OutputBuffer(const char* name, int32_t datatype,
                            const int64_t* shape, uint32_t rank,
                            uint64_t byte_size, void** buffer);
  void ReportTimes(uint64_t input_end_ns, uint64_t infer_end_ns);
  // Scatters, reports through done_, and deletes this.
  void Complete(absl::Status status);

  static HostBatch* FromAbi(ServalBatch* b) {
    return reinterpret_cast<HostBatch*>(b);
  }
  ServalBatch* ToAbi() { return reinterpret_cast<ServalBatch*>(this); }

 private:
  HostBatch(const ModelSpec& io, BatchScratch* scratch,
            std::vector<BatchEntry> entries, BatchDoneFn done);

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
  BatchScratch* scratch_;
  std::vector<BatchEntry> entries_;
  BatchDoneFn done_;
  BatchTimes times_;
  int64_t total_batch_ = 0;
  std::vector<int64_t> entry_batch_;           // batch size per entry
  std::vector<Shape> input_shapes_;            // backing for inputs_
  std::vector<ServalTensor> inputs_;
  std::vector<const char*> requested_;         // union, model order
  std::vector<bool> requested_mask_;           // per model output
  std::vector<Allocated> allocated_;           // per model output
};

}  // namespace serval

#endif  // SERVAL_BACKEND_HOST_BATCH_H_
