#include "metrics/model_statistics.h"

#include <chrono>

namespace serval {
namespace {
uint64_t WallMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}
}  // namespace

void StatisticsRecorder::RecordRequest(bool success, uint64_t request_ns,
                                       uint64_t queue_ns, uint64_t input_ns,
                                       uint64_t infer_ns, uint64_t output_ns) {
  (success ? success_ : fail_).Add(request_ns);
  if (!success) return;
  queue_.Add(queue_ns);
  input_.Add(input_ns);
  infer_.Add(infer_ns);
  output_.Add(output_ns);
}

void StatisticsRecorder::RecordFailure(uint64_t request_ns) {
  fail_.Add(request_ns);
}

void StatisticsRecorder::RecordExecution(uint64_t batch_size, uint64_t input_ns,
                                         uint64_t infer_ns,
                                         uint64_t output_ns) {
  inference_count_.fetch_add(batch_size, std::memory_order_relaxed);
  execution_count_.fetch_add(1, std::memory_order_relaxed);
  last_inference_ms_.store(WallMs(), std::memory_order_relaxed);
  absl::MutexLock lock(&batch_mu_);
  BatchStatistics& b = batches_[batch_size];
  b.batch_size = batch_size;
  b.compute_input.count++;
  b.compute_input.ns += input_ns;
  b.compute_infer.count++;
  b.compute_infer.ns += infer_ns;
  b.compute_output.count++;
  b.compute_output.ns += output_ns;
}

ModelStatistics StatisticsRecorder::Snapshot(const std::string& name,
                                             const std::string& version) const {
  ModelStatistics s;
  s.name = name;
  s.version = version;
  s.last_inference_ms = last_inference_ms_.load(std::memory_order_relaxed);
  s.inference_count = inference_count_.load(std::memory_order_relaxed);
  s.execution_count = execution_count_.load(std::memory_order_relaxed);
  s.inference_stats.success = success_.Load();
  s.inference_stats.fail = fail_.Load();
  s.inference_stats.queue = queue_.Load();
  s.inference_stats.compute_input = input_.Load();
  s.inference_stats.compute_infer = infer_.Load();
  s.inference_stats.compute_output = output_.Load();
  absl::MutexLock lock(&batch_mu_);
  for (const auto& [size, b] : batches_) s.batch_stats.push_back(b);
  return s;
}

}  // namespace serval
