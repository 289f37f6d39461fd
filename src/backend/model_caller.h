// How a backend reaches the other models of its server (the host's infer
// entry, Triton's BLS): a request through the server's own path, answered
// once through `done`. Implemented above the backend layer (the server, by
// way of the ensemble's step dispatcher) and injected into each HostBatch.
#ifndef SERVAL_BACKEND_MODEL_CALLER_H_
#define SERVAL_BACKEND_MODEL_CALLER_H_

#include <cstdint>
#include <string_view>

#include "request/inference_request.h"

namespace serval {

class ModelCaller {
 public:
  virtual ~ModelCaller() = default;
  // Runs `request` on (model, version; -1 the latest ready) and answers
  // `done` exactly once, on any thread, possibly before returning.
  virtual void Call(std::string_view model, int64_t version,
                    InferenceRequest request, InferCompletion* done) = 0;
};

}  // namespace serval

#endif  // SERVAL_BACKEND_MODEL_CALLER_H_
