// The in-process form of one inference: what a frontend decodes into and
// what it encodes from. Input tensors are views over bytes kept alive by
// `payload_owner` (usually the request body), so the frontend copies
// nothing. Not thread-safe; moved along the pipeline.
#ifndef SERVAL_REQUEST_INFERENCE_REQUEST_H_
#define SERVAL_REQUEST_INFERENCE_REQUEST_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tensor/tensor.h"

namespace serval {

// Set by a frontend when its client goes away; the scheduler drops a
// cancelled request instead of executing it. Thread-safe.
class CancellationFlag {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool IsCancelled() const {
    return cancelled_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<bool> cancelled_{false};
};

struct InferenceRequest {
  std::string model_name;
  // Requested version; -1 means the latest ready version.
  int64_t model_version = -1;
  // Client-given id, or empty (the server then generates one).
  std::string id;
  // Priority level, 1 is highest; 0 means the model's default level.
  uint32_t priority = 0;
  // Client timeout in microseconds; 0 means none given.
  uint64_t timeout_us = 0;
  std::vector<TensorView> inputs;
  // Names of the outputs wanted; empty means all model outputs.
  std::vector<std::string> requested_outputs;
  // Keeps the bytes under `inputs` alive until the request completes.
  std::shared_ptr<const void> payload_owner;
  // Optional; set by frontends that can detect a client going away.
  std::shared_ptr<CancellationFlag> cancellation;
};

struct OutputTensor {
  std::string name;
  DataType datatype = DataType::kInvalid;
  Shape shape;
  TensorBuffer data;
};

// Server-side timings of one request, in nanoseconds.
struct RequestTimings {
  uint64_t queue_ns = 0;
  uint64_t compute_input_ns = 0;
  uint64_t compute_infer_ns = 0;
  uint64_t compute_output_ns = 0;
};

struct InferenceResponse {
  absl::Status status;
  std::string model_name;
  int64_t model_version = -1;
  std::string id;
  std::vector<OutputTensor> outputs;
  RequestTimings timings;
};

// Invoked exactly once per request, on any server thread; it must not block.
using InferCallback = std::function<void(InferenceResponse)>;

}  // namespace serval

#endif  // SERVAL_REQUEST_INFERENCE_REQUEST_H_
