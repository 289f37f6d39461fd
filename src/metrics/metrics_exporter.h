// MetricsExporter: renders the whole /metrics page: per model version
// families (from ModelMetrics plus gauges read at scrape time), process
// families (from /proc) and GPU families (from NVML, when present). Holds
// no per-request state; Render is thread-safe. The caller gathers the
// model versions (the exporter does not know the model manager).
#ifndef SERVAL_METRICS_METRICS_EXPORTER_H_
#define SERVAL_METRICS_METRICS_EXPORTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metrics/gpu_metrics.h"
#include "metrics/model_metrics.h"
#include "metrics/process_metrics.h"
#include "metrics/text_exposition.h"

namespace serval {

// One live model version as seen at scrape time.
struct ModelMetricsSource {
  std::string model;
  std::string version;
  const ModelMetrics* metrics = nullptr;  // must stay alive during Render
  uint64_t queue_depth = 0;               // requests waiting in its queues
  uint64_t in_flight = 0;                 // admitted, not yet completed
  int64_t batch_limit = 0;                // the batch size the queue aims for
  uint64_t queue_budget_ns = 0;           // the budget in force (0: none)
  uint64_t predicted_wait_ns = 0;         // a new request's predicted wait
};

// A frontend listener whose accepted connections are counted.
struct ListenerPort {
  std::string frontend;  // "http", "grpc"
  uint16_t port = 0;
};

class MetricsExporter {
 public:
  // `gpu` may be null (no NVML): the GPU families are left out.
  MetricsExporter(std::vector<ListenerPort> listeners,
                  std::unique_ptr<GpuMonitor> gpu);

  // `server_in_flight`: requests the server has taken and not answered,
  // whatever model they are for.
  std::string Render(const std::vector<ModelMetricsSource>& models,
                     uint64_t server_in_flight) const;

  // The pieces of Render, each writing complete families.
  static void WriteModelFamilies(TextExposition& out,
                                 const std::vector<ModelMetricsSource>& models);
  static void WriteProcessFamilies(TextExposition& out, const ProcessStats& p);
  static void WriteServerInFlight(TextExposition& out, uint64_t in_flight);
  static void WriteConnectionFamily(TextExposition& out,
                                    const std::vector<ListenerPort>& listeners,
                                    const std::vector<uint64_t>& counts);
  static void WriteGpuFamilies(TextExposition& out,
                               const std::vector<GpuSample>& gpus);

 private:
  const std::vector<ListenerPort> listeners_;
  const std::unique_ptr<GpuMonitor> gpu_;
};

}  // namespace serval

#endif  // SERVAL_METRICS_METRICS_EXPORTER_H_
