#include "metrics/metrics_exporter.h"

#include <functional>
#include <utility>

namespace serval {
namespace {

Labels ModelLabels(const ModelMetricsSource& m) {
  return {{"model", m.model}, {"version", m.version}};
}

// One family with one sample per model version.
void PerModel(TextExposition& out,
              const std::vector<ModelMetricsSource>& models,
              std::string_view name, std::string_view help, MetricType type,
              const std::function<double(const ModelMetricsSource&)>& value,
              bool needs_recording = true) {
  out.Family(name, help, type);
  for (const auto& m : models) {
    if (needs_recording && m.metrics == nullptr) continue;
    out.Sample(name, ModelLabels(m), value(m));
  }
}

void PerModelHistogram(
    TextExposition& out, const std::vector<ModelMetricsSource>& models,
    std::string_view name, std::string_view help,
    const std::function<const Histogram&(const ModelMetrics&)>& pick) {
  out.Family(name, help, MetricType::kHistogram);
  for (const auto& m : models) {
    if (m.metrics == nullptr) continue;
    out.HistogramSamples(name, ModelLabels(m), pick(*m.metrics).Snapshot());
  }
}

}  // namespace

MetricsExporter::MetricsExporter(std::vector<ListenerPort> listeners,
                                 std::unique_ptr<GpuMonitor> gpu)
    : listeners_(std::move(listeners)), gpu_(std::move(gpu)) {}

std::string MetricsExporter::Render(
    const std::vector<ModelMetricsSource>& models,
    uint64_t server_in_flight) const {
  TextExposition out;
  WriteModelFamilies(out, models);
  WriteServerInFlight(out, server_in_flight);
  if (auto p = ReadProcessStats()) WriteProcessFamilies(out, *p);
  std::vector<uint64_t> counts;
  for (const auto& l : listeners_) counts.push_back(OpenConnections(l.port));
  WriteConnectionFamily(out, listeners_, counts);
  if (gpu_) WriteGpuFamilies(out, gpu_->Sample());
  return out.Take();
}

void MetricsExporter::WriteModelFamilies(
    TextExposition& out, const std::vector<ModelMetricsSource>& models) {
  constexpr std::string_view kRequests = "serval_inference_requests_total";
  out.Family(kRequests,
             "Inference requests completed, by outcome; failures carry the "
             "reason (queue_full, timeout, cancelled, backend, invalid, "
             "unavailable).",
             MetricType::kCounter);
  for (const auto& m : models) {
    if (m.metrics == nullptr) continue;
    for (size_t i = 0; i < kRequestOutcomeCount; ++i) {
      const auto outcome = static_cast<RequestOutcome>(i);
      Labels labels = ModelLabels(m);
      if (outcome == RequestOutcome::kSuccess) {
        labels.emplace_back("outcome", "success");
      } else {
        labels.emplace_back("outcome", "failure");
        labels.emplace_back("reason", RequestOutcomeName(outcome));
      }
      out.Sample(kRequests, labels,
                 static_cast<double>(m.metrics->requests(outcome)));
    }
  }
  PerModel(out, models, "serval_inferences_total",
           "Batch items executed (a request of batch 4 counts 4).",
           MetricType::kCounter, [](const ModelMetricsSource& m) {
             return static_cast<double>(m.metrics->inferences());
           });
  PerModel(out, models, "serval_executions_total",
           "Backend executions (batches run).", MetricType::kCounter,
           [](const ModelMetricsSource& m) {
             return static_cast<double>(m.metrics->executions());
           });
  PerModel(
      out, models, "serval_queue_depth", "Requests waiting in the queue.",
      MetricType::kGauge,
      [](const ModelMetricsSource& m) {
        return static_cast<double>(m.queue_depth);
      },
      false);
  PerModel(
      out, models, "serval_inflight_requests",
      "Requests admitted and not yet completed (queued or executing).",
      MetricType::kGauge,
      [](const ModelMetricsSource& m) {
        return static_cast<double>(m.in_flight);
      },
      false);
  PerModel(
      out, models, "serval_batch_size_limit",
      "The batch size the scheduler aims for now: max_batch_size, or the "
      "size it chose for latency_target_ms (1 without batching).",
      MetricType::kGauge,
      [](const ModelMetricsSource& m) {
        return static_cast<double>(m.batch_limit);
      },
      false);
  PerModel(
      out, models, "serval_queue_budget_seconds",
      "The predicted wait over which a request is refused now (0: no bound "
      "in time yet or at all).",
      MetricType::kGauge,
      [](const ModelMetricsSource& m) {
        return static_cast<double>(m.queue_budget_ns) / 1e9;
      },
      false);
  PerModel(
      out, models, "serval_predicted_wait_seconds",
      "How long a request arriving now is predicted to wait before its batch "
      "starts.",
      MetricType::kGauge,
      [](const ModelMetricsSource& m) {
        return static_cast<double>(m.predicted_wait_ns) / 1e9;
      },
      false);
  PerModelHistogram(out, models, "serval_request_duration_seconds",
                    "Time from admission to completion of a request.",
                    [](const ModelMetrics& m) -> const Histogram& {
                      return m.request_duration();
                    });
  PerModelHistogram(out, models, "serval_queue_duration_seconds",
                    "Time an executed request waited in the queue.",
                    [](const ModelMetrics& m) -> const Histogram& {
                      return m.queue_duration();
                    });
  PerModelHistogram(out, models, "serval_compute_input_duration_seconds",
                    "Time to prepare the inputs of the request's batch.",
                    [](const ModelMetrics& m) -> const Histogram& {
                      return m.compute_input_duration();
                    });
  PerModelHistogram(out, models, "serval_compute_infer_duration_seconds",
                    "Backend execution time of the request's batch.",
                    [](const ModelMetrics& m) -> const Histogram& {
                      return m.compute_infer_duration();
                    });
  PerModelHistogram(out, models, "serval_compute_output_duration_seconds",
                    "Time to hand back the outputs of the request's batch.",
                    [](const ModelMetrics& m) -> const Histogram& {
                      return m.compute_output_duration();
                    });
  PerModelHistogram(
      out, models, "serval_batch_size", "Batch items per backend execution.",
      [](const ModelMetrics& m) -> const Histogram& { return m.batch_size(); });
}

void MetricsExporter::WriteProcessFamilies(TextExposition& out,
                                           const ProcessStats& p) {
  out.Family("process_cpu_seconds_total",
             "User and system CPU time spent by the process.",
             MetricType::kCounter);
  out.Sample("process_cpu_seconds_total", {}, p.cpu_seconds);
  out.Family("process_resident_memory_bytes", "Resident memory size.",
             MetricType::kGauge);
  out.Sample("process_resident_memory_bytes", {},
             static_cast<double>(p.resident_bytes));
  out.Family("process_virtual_memory_bytes", "Virtual memory size.",
             MetricType::kGauge);
  out.Sample("process_virtual_memory_bytes", {},
             static_cast<double>(p.virtual_bytes));
  out.Family("process_start_time_seconds",
             "Start time of the process since the Unix epoch.",
             MetricType::kGauge);
  out.Sample("process_start_time_seconds", {}, p.start_time_seconds);
  out.Family("process_open_fds", "Open file descriptors.", MetricType::kGauge);
  out.Sample("process_open_fds", {}, static_cast<double>(p.open_fds));
  out.Family("process_max_fds", "Limit on open file descriptors.",
             MetricType::kGauge);
  out.Sample("process_max_fds", {}, static_cast<double>(p.max_fds));
}

void MetricsExporter::WriteServerInFlight(TextExposition& out,
                                          uint64_t in_flight) {
  out.Family("serval_server_inflight_requests",
             "Inference requests the server has taken and not yet answered "
             "(all models, including those still being validated).",
             MetricType::kGauge);
  out.Sample("serval_server_inflight_requests", {},
             static_cast<double>(in_flight));
}

void MetricsExporter::WriteConnectionFamily(
    TextExposition& out, const std::vector<ListenerPort>& listeners,
    const std::vector<uint64_t>& counts) {
  if (listeners.empty()) return;
  out.Family("serval_open_connections",
             "Client connections open on a frontend.", MetricType::kGauge);
  for (size_t i = 0; i < listeners.size() && i < counts.size(); ++i) {
    out.Sample("serval_open_connections", {{"frontend", listeners[i].frontend}},
               static_cast<double>(counts[i]));
  }
}

void MetricsExporter::WriteGpuFamilies(TextExposition& out,
                                       const std::vector<GpuSample>& gpus) {
  if (gpus.empty()) return;
  struct Family {
    std::string_view name, help;
    std::function<std::optional<double>(const GpuSample&)> value;
  };
  const Family families[] = {
      {"serval_gpu_utilization_ratio",
       "Fraction of the last sample period the GPU was busy (0..1).",
       [](const GpuSample& g) { return g.utilization_ratio; }},
      {"serval_gpu_memory_used_bytes", "GPU memory in use.",
       [](const GpuSample& g) -> std::optional<double> {
         if (!g.memory_used_bytes) return std::nullopt;
         return static_cast<double>(*g.memory_used_bytes);
       }},
      {"serval_gpu_memory_total_bytes", "GPU memory in total.",
       [](const GpuSample& g) -> std::optional<double> {
         if (!g.memory_total_bytes) return std::nullopt;
         return static_cast<double>(*g.memory_total_bytes);
       }},
      {"serval_gpu_power_watts", "GPU power draw.",
       [](const GpuSample& g) { return g.power_watts; }},
  };
  for (const auto& f : families) {
    out.Family(f.name, f.help, MetricType::kGauge);
    for (const auto& g : gpus) {
      const auto v = f.value(g);
      if (!v) continue;
      const std::string index = std::to_string(g.index);
      out.Sample(f.name, {{"gpu", index}, {"uuid", g.uuid}}, *v);
    }
  }
}

}  // namespace serval
