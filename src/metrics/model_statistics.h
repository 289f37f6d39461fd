// Per model version statistics in the shape of Triton's statistics
// extension, and the accumulator the scheduler records into. Record* and
// Snapshot are thread-safe; recording is a few relaxed atomic adds plus one
// short per-model lock for the batch-size table.
#ifndef SERVAL_METRICS_MODEL_STATISTICS_H_
#define SERVAL_METRICS_MODEL_STATISTICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace serval {

struct DurationStat {
  uint64_t count = 0;
  uint64_t ns = 0;
};

struct InferStatistics {
  DurationStat success;
  DurationStat fail;
  DurationStat queue;
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
};

struct BatchStatistics {
  uint64_t batch_size = 0;
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
};

struct ModelStatistics {
  std::string name;
  std::string version;
  uint64_t last_inference_ms = 0;  // wall clock, ms since the epoch
  uint64_t inference_count = 0;    // batch items run
  uint64_t execution_count = 0;    // backend executions (batches)
  InferStatistics inference_stats;
  std::vector<BatchStatistics> batch_stats;  // ascending batch size
  // Resident memory the version added when it loaded; -1 when unknown.
  int64_t memory_bytes = -1;
};

class StatisticsRecorder {
 public:
  // A request that went through a batch (success or backend failure).
  void RecordRequest(bool success, uint64_t request_ns, uint64_t queue_ns,
                     uint64_t input_ns, uint64_t infer_ns, uint64_t output_ns);
  // A request that failed before execution (rejected, timed out, cancelled).
  void RecordFailure(uint64_t request_ns);
  // One backend execution of `batch_size` items.
  void RecordExecution(uint64_t batch_size, uint64_t input_ns,
                       uint64_t infer_ns, uint64_t output_ns);

  ModelStatistics Snapshot(const std::string& name,
                           const std::string& version) const;

 private:
  struct AtomicDuration {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> ns{0};
    void Add(uint64_t v) {
      count.fetch_add(1, std::memory_order_relaxed);
      ns.fetch_add(v, std::memory_order_relaxed);
    }
    DurationStat Load() const {
      return {count.load(std::memory_order_relaxed),
              ns.load(std::memory_order_relaxed)};
    }
  };

  AtomicDuration success_, fail_, queue_, input_, infer_, output_;
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> execution_count_{0};
  std::atomic<uint64_t> last_inference_ms_{0};
  mutable absl::Mutex batch_mu_;
  std::map<uint64_t, BatchStatistics> batches_ ABSL_GUARDED_BY(batch_mu_);
};

}  // namespace serval

#endif  // SERVAL_METRICS_MODEL_STATISTICS_H_
