// The trace extension (Triton's): which requests get traced (level, rate,
// count, globally or per model) and the trace files, in Triton's JSON
// format: an array of objects, one naming the request ({"id", "model_name",
// "model_version", "request_id"}), then one per timestamp ({"id",
// "timestamps": [{"name": "QUEUE_START", "ns": ...}]}) and, at level
// TENSORS, one per tensor ({"id", "activity": "TENSOR_QUEUE_INPUT",
// "tensor": {"name", "data", "shape", "dtype"}}).
//
// With log_frequency 0 every trace is appended to trace_file, which is a
// complete JSON array after each trace; with log_frequency N, every N
// traces are written as a complete array to <trace_file>.<i> (i from 0),
// the rest when the server stops. A settings change restarts the counters
// (rate, count) but appends to the same files. With tracing off (the default)
// the request path pays one relaxed atomic load. Thread-safe.
#ifndef SERVAL_SERVER_TRACE_H_
#define SERVAL_SERVER_TRACE_H_

#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "request/inference_request.h"
#include "server/server_api.h"

namespace serval {

// One traced request's timestamps (steady clock ns; 0 = not reached).
struct TraceTimestamps {
  uint64_t request_start = 0;
  uint64_t queue_start = 0;
  uint64_t compute_start = 0;
  uint64_t compute_input_end = 0;
  uint64_t compute_output_start = 0;
  uint64_t compute_end = 0;
  uint64_t request_end = 0;
};

class TraceManager {
 public:
  // `initial`: the global settings at start-up (from serve's flags).
  explicit TraceManager(TraceSettings initial);
  ~TraceManager();

  // True while any setting traces anything; the one check requests pay.
  bool active() const { return active_.load(std::memory_order_relaxed); }

  // Whether to trace this request of `model`; a trace id (> 0) or 0.
  uint64_t Sample(std::string_view model);
  // At level TENSORS: the request's inputs, recorded while their bytes are
  // still valid.
  bool WantsTensors(std::string_view model) const;
  void RecordInputs(uint64_t id, const std::vector<TensorView>& inputs);
  // Ends a trace: writes its objects.
  void Finish(uint64_t id, std::string_view model, int64_t version,
              std::string_view request_id, const TraceTimestamps& t,
              const std::vector<OutputTensor>* outputs);

  // The settings in force for `model` (empty: the global ones).
  TraceSettings Get(std::string_view model) const;
  // Applies updates; INVALID_ARGUMENT (changing nothing) for bad values.
  absl::StatusOr<TraceSettings> Update(
      std::string_view model, const std::vector<TraceSettingUpdate>& updates);

 private:
  // What one scope (global, or a model) asks for: unset fields inherit the
  // global value.
  struct Scope {
    std::optional<std::vector<std::string>> level;
    std::optional<uint32_t> rate;
    std::optional<int64_t> count;
    std::optional<uint32_t> log_frequency;
    std::optional<std::string> file;
  };
  // The sampling counters of one scope.
  struct Sink;
  // One file being written.
  struct TraceFile;

  TraceSettings EffectiveLocked(std::string_view model) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Sink& SinkForLocked(std::string_view model)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResolveLocked(std::string_view key, Sink* sink) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshActiveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteLocked(const TraceSettings& settings, const std::string& objects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::atomic<bool> active_{false};
  mutable absl::Mutex mu_;
  Scope global_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Scope, std::less<>> models_ ABSL_GUARDED_BY(mu_);
  // Per scope key ("" = global).
  std::map<std::string, std::unique_ptr<Sink>, std::less<>> sinks_
      ABSL_GUARDED_BY(mu_);
  // By file name.
  std::map<std::string, std::unique_ptr<TraceFile>> files_ ABSL_GUARDED_BY(mu_);
  // Tensor text of traces in flight, by id.
  std::map<uint64_t, std::string> pending_tensors_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

// Start-up settings from serve's repeatable --trace-config flags, in
// Triton's form: "level=TIMESTAMPS" (repeatable: TENSORS too), "rate=N",
// "count=N", "log_frequency=N", "file=PATH", "mode=triton", each optionally
// prefixed "triton,". INVALID_ARGUMENT naming the bad flag.
absl::StatusOr<TraceSettings> ParseTraceConfig(
    const std::vector<std::string>& flags);

}  // namespace serval

#endif  // SERVAL_SERVER_TRACE_H_
