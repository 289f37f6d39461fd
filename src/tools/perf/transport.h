// How `serval perf` talks to a KServe v2 server: one implementation per
// protocol (http_transport.h, grpc_transport.h). A transport knows the
// target model and the request it sends; the load drivers decide when.
#ifndef SERVAL_TOOLS_PERF_TRANSPORT_H_
#define SERVAL_TOOLS_PERF_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/perf/model_inputs.h"
#include "tools/perf/server_stats.h"

namespace serval::perf {

// The result of one request, as seen by the client.
struct Outcome {
  int64_t start_ns = 0;  // steady clock, when sending actually began
  int64_t end_ns = 0;    // steady clock, when the response was complete
  int64_t send_ns = 0;   // writing the request (0 where not observable)
  int64_t recv_ns = 0;   // reading the response after its first bytes
  std::string error;     // empty on success, else e.g. "HTTP 503"
};

using DoneCallback = std::function<void(Outcome)>;

struct TargetOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string model;
  std::string version;        // empty: the server's choice
  int max_connections = 256;  // HTTP: beyond this requests wait client-side
  int io_threads = 1;
  bool binary = false;  // HTTP binary tensor extension instead of JSON
};

// Thread-safety: AsyncInfer may be called from any thread, concurrently;
// the other methods from one thread at a time.
class Transport {
 public:
  virtual ~Transport() = default;

  // Input names, types and shapes from the server's metadata and config.
  virtual absl::StatusOr<ModelInfo> FetchModelInfo() = 0;
  // The server's cumulative statistics for the model.
  virtual absl::StatusOr<ServerStats> FetchStats() = 0;
  // Fixes the request every AsyncInfer sends. Call before the first one.
  virtual absl::Status SetInputs(const std::vector<InputTensor>& inputs) = 0;
  // Sends one request; `done` runs exactly once, on a transport thread, and
  // may call AsyncInfer again.
  virtual void AsyncInfer(DoneCallback done) = 0;
  // Completes requests still waiting client-side (not yet sent) with the
  // error "cancelled", on the calling thread; a step's end does not wait
  // for a backlog the server cannot absorb.
  virtual void CancelQueued() {}
};

int64_t NowNs();  // steady clock

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_TRANSPORT_H_
