// A loaded, servable model version: its final config and spec, its
// scheduler (which owns the executor and through it the backend model and
// instances) and its statistics. Shared through ModelHandle: every request
// holds a handle, so a version lives until its last request completes; the
// loader gives the handle a deleter that destroys the version on the
// reaper executor (never on one of its own workers).
#ifndef SERVAL_LIFECYCLE_MODEL_VERSION_H_
#define SERVAL_LIFECYCLE_MODEL_VERSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/backend_resolution.h"
#include "config/model_spec.h"
#include "metrics/metrics_options.h"
#include "metrics/model_metrics.h"
#include "metrics/model_statistics.h"
#include "proto/model_config.pb.h"
#include "scheduler/scheduler.h"

namespace serval {

struct ModelVersionOptions {
  std::string name;
  int64_t version = 1;
  inference::ModelConfig config;
  BackendChoice backend;
  ModelSpec spec;
  // Classification labels of each output (spec order), from the outputs'
  // label_filename; empty for an output without one.
  std::vector<std::vector<std::string>> labels;
  // Prometheus recording; disabled: metrics() is null.
  MetricsOptions metrics;
  const Clock* clock = Clock::Real();
  // An ensemble: the models its steps run (it serves while they do).
  std::vector<std::string> step_models;
};

class ModelVersion {
 public:
  explicit ModelVersion(ModelVersionOptions options);
  ~ModelVersion();
  ModelVersion(const ModelVersion&) = delete;
  ModelVersion& operator=(const ModelVersion&) = delete;

  // Takes the executor (one worker per instance); starts the workers.
  // Called once by the loader.
  void StartScheduler(std::unique_ptr<BatchExecutor> executor);
  // Refuses new requests and runs the queued ones; idempotent.
  void StopScheduler();

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::string& version_string() const { return version_string_; }
  const inference::ModelConfig& config() const { return config_; }
  const BackendChoice& backend() const { return backend_; }
  const ModelSpec& spec() const { return spec_; }
  // Labels of output `o` (spec order); empty when it has none.
  const std::vector<std::string>& labels(size_t o) const {
    static const std::vector<std::string> kNone;
    return o < labels_.size() ? labels_[o] : kNone;
  }
  Scheduler& scheduler() { return *scheduler_; }
  // The models an ensemble's steps run; empty for any other model.
  const std::vector<std::string>& step_models() const { return step_models_; }
  StatisticsRecorder& stats() { return stats_; }
  // Prometheus counters and histograms; null when recording is off
  // (serve --allow-metrics false).
  ModelMetrics* metrics() { return metrics_enabled_ ? &metrics_ : nullptr; }

  // Growth of the process's resident memory while this version loaded and
  // warmed up, in bytes; -1 when not measured. Approximate: loads running
  // at the same time blur each other's numbers. Set once by the loader.
  int64_t load_memory_bytes() const { return load_memory_bytes_; }
  void set_load_memory_bytes(int64_t bytes) { load_memory_bytes_ = bytes; }
  // Keeps something alive as long as the version, released after the
  // backend model: the private directory of uploaded model files.
  void set_files_owner(std::shared_ptr<const void> owner) {
    files_owner_ = std::move(owner);
  }

 private:
  const std::string name_;
  const int64_t version_;
  const std::string version_string_;
  const inference::ModelConfig config_;
  const BackendChoice backend_;
  const ModelSpec spec_;
  const std::vector<std::vector<std::string>> labels_;
  const std::vector<std::string> step_models_;
  const Clock* const clock_;
  int64_t load_memory_bytes_ = -1;
  // Declared before scheduler_ so that it is released after it (and with it
  // the backend model reading those files).
  std::shared_ptr<const void> files_owner_;
  StatisticsRecorder stats_;
  const bool metrics_enabled_;
  ModelMetrics metrics_;
  std::unique_ptr<Scheduler> scheduler_;
};

using ModelHandle = std::shared_ptr<ModelVersion>;

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_MODEL_VERSION_H_
