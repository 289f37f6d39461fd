// The in-process form of one inference: what a frontend decodes into and
// what it encodes from, and the interface through which it learns the
// answer. Input tensors are views over bytes the requester keeps alive
// until it is answered (usually the request body), or over buffers the
// request owns, so the frontend copies nothing. Not thread-safe; moved
// along the pipeline.
#ifndef SERVAL_REQUEST_INFERENCE_REQUEST_H_
#define SERVAL_REQUEST_INFERENCE_REQUEST_H_

#include <atomic>
#include <cstdint>
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
  void Reset() { cancelled_.store(false, std::memory_order_relaxed); }
  bool IsCancelled() const {
    return cancelled_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<bool> cancelled_{false};
};

// What a request asks of one output besides its name (Triton's output
// parameters).
struct OutputOptions {
  std::string name;
  // Classification extension: the output is answered as its top k values
  // per batch item, BYTES "value:index" or "value:index:label"; 0 = off.
  uint32_t classification = 0;
  // Shared-memory extension: the output's bytes go here instead of into the
  // response; a view into a registered region that the request's
  // keep_alive pins. Null = not in shared memory.
  char* shared_memory = nullptr;
  uint64_t shared_memory_size = 0;
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
  // The request's "parameters" as a JSON object text (KServe v2's,
  // including those serval reads itself), for backends that hand them to
  // models; empty when the request had none.
  std::string parameters_json;
  std::vector<TensorView> inputs;
  // Names of the outputs wanted; empty means all model outputs.
  std::vector<std::string> requested_outputs;
  // Options of the outputs that have any (a subset of requested_outputs).
  std::vector<OutputOptions> output_options;
  // Bytes the request owns, for inputs a frontend had to convert (JSON
  // numbers); views in `inputs` may point into them. Moving the request
  // keeps them where they are.
  std::vector<TensorBuffer> owned_data;
  // What views of this request point into that the requester does not own
  // itself (mapped shared-memory regions); released with the request, so a
  // region is never unmapped under a request that uses it.
  std::vector<std::shared_ptr<const void>> keep_alive;
  // Optional; owned by the requester, which keeps it alive until it is
  // answered. Set by frontends that can detect a client going away.
  const CancellationFlag* cancellation = nullptr;
};

struct OutputTensor {
  std::string name;
  DataType datatype = DataType::kInvalid;
  Shape shape;
  TensorBuffer data;
  // The bytes were written into the request's shared-memory region and
  // `data` is empty: the response carries only name, datatype and shape.
  bool in_shared_memory = false;
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

// Implemented by whoever asks for an inference (a frontend's connection or
// call, an ensemble step, a warm-up run). It must stay alive until
// OnInferComplete has been called, exactly once, on any server thread; the
// call must not block.
class InferCompletion {
 public:
  virtual void OnInferComplete(InferenceResponse response) = 0;

 protected:
  ~InferCompletion() = default;
};

}  // namespace serval

#endif  // SERVAL_REQUEST_INFERENCE_REQUEST_H_
