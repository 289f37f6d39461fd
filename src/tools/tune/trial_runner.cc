#include "tools/tune/trial_runner.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "config/config_json.h"
#include "tools/perf/grpc_transport.h"
#include "tools/perf/http_transport.h"
#include "tools/tune/candidate_config.h"

namespace serval::tune {
namespace {

double MsSince(int64_t start_ns) { return (perf::NowNs() - start_ns) / 1e6; }

}  // namespace

TrialFigures TrialRunner::Run(const Candidate& c) {
  TrialFigures f;
  auto base = base_.find(c.model);
  if (base == base_.end()) {
    f.error = absl::StrCat("no configuration known for '", c.model, "'");
    return f;
  }
  absl::StatusOr<std::string> json =
      ModelConfigToJson(ApplyCandidate(base->second, c));
  if (!json.ok()) {
    f.error = std::string(json.status().message());
    return f;
  }
  const int64_t load_start = perf::NowNs();
  if (absl::Status s = client_->Load(c.model, *json); !s.ok()) {
    f.error = std::string(s.message());
    return f;
  }
  f.load_ms = MsSince(load_start);
  Measure(c, &f);
  return f;
}

void TrialRunner::Measure(const Candidate& c, TrialFigures* f) {
  const int64_t ready_ns = perf::NowNs();
  // The load answered once READY; a model that a concurrent client
  // unloaded, or one whose load failed quietly, shows here.
  absl::StatusOr<bool> ready = client_->Ready(c.model);
  if (!ready.ok() || !*ready) {
    f->error = absl::StrCat("'", c.model, "' is not READY after its load");
    return;
  }
  perf::TargetOptions target;
  target.host = options_.protocol == "grpc" && !options_.grpc_host.empty()
                    ? options_.grpc_host
                    : client_->host();
  target.port =
      options_.protocol == "grpc" ? options_.grpc_port : client_->http_port();
  target.model = c.model;
  target.max_connections = options_.max_connections;
  target.binary = options_.binary;
  absl::StatusOr<std::unique_ptr<perf::Transport>> transport =
      options_.protocol == "grpc" ? perf::CreateGrpcTransport(target)
                                  : perf::CreateHttpTransport(target);
  if (!transport.ok()) {
    f->error = std::string(transport.status().message());
    return;
  }
  absl::StatusOr<perf::ModelInfo> info = (*transport)->FetchModelInfo();
  absl::StatusOr<std::vector<perf::InputTensor>> inputs =
      info.ok() ? perf::MakeInputs(*info, options_.inputs)
                : absl::StatusOr<std::vector<perf::InputTensor>>(info.status());
  absl::Status set =
      inputs.ok() ? (*transport)->SetInputs(*inputs) : inputs.status();
  if (!set.ok()) {
    f->error = std::string(set.message());
    return;
  }
  absl::StatusOr<ProcessFigures> before = client_->Process();
  f->setup_ms = MsSince(ready_ns);
  const int64_t start = perf::NowNs();
  perf::PerfRunner runner(transport->get(), options_.run, progress_);
  perf::StepResult s = options_.open_loop
                           ? runner.RunRate(c.load)
                           : runner.RunConcurrency(static_cast<int>(c.load));
  const double seconds = (perf::NowNs() - start) / 1e9;
  f->measure_s = seconds;
  absl::StatusOr<ProcessFigures> after = client_->Process();
  if (before.ok() && after.ok()) {
    f->rss_mb = after->resident_bytes / (1024.0 * 1024.0);
    f->cpu_cores = (after->cpu_seconds - before->cpu_seconds) / seconds;
  }
  f->throughput = s.throughput;
  f->p50_ms = s.latency.p50_ns / 1e6;
  f->p95_ms = s.latency.p95_ns / 1e6;
  f->p99_ms = s.latency.p99_ns / 1e6;
  f->successes = s.successes;
  f->errors = s.errors;
  f->stable = s.stable;
  if (s.server.valid) {
    f->queue_us = s.server.queue_us;
    f->compute_input_us = s.server.compute_input_us;
    f->compute_infer_us = s.server.compute_infer_us;
    f->compute_output_us = s.server.compute_output_us;
    f->server_request_us = s.server.request_us;
    f->avg_batch = s.server.avg_batch;
  }
}

}  // namespace serval::tune
