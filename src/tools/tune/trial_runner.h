// One trial of `serval tune`: load a candidate configuration into the
// running server through the load API (a hot reload), check it is READY,
// measure it with the `serval perf` engine (the same warm-up, windows and
// stability rule), and read the server's memory and CPU around it. Used
// from one thread.
#ifndef SERVAL_TOOLS_TUNE_TRIAL_RUNNER_H_
#define SERVAL_TOOLS_TUNE_TRIAL_RUNNER_H_

#include <map>
#include <string>

#include "proto/model_config.pb.h"
#include "tools/perf/perf_runner.h"
#include "tools/perf/transport.h"
#include "tools/tune/objective.h"
#include "tools/tune/search_space.h"
#include "tools/tune/server_client.h"

namespace serval::tune {

struct MeasureOptions {
  std::string protocol = "http";  // http or grpc
  bool binary = true;             // HTTP binary tensor extension
  std::string grpc_host;          // empty: the HTTP host
  int grpc_port = 0;
  perf::RunOptions run;    // windows, warm-up, stability, arrivals
  bool open_loop = false;  // the load is a request rate, not a concurrency
  perf::InputOptions inputs;
  int max_connections = 256;
};

class TrialRunner {
 public:
  // `base` holds each model's configuration as found on the server.
  TrialRunner(ServerClient* client,
              std::map<std::string, inference::ModelConfig> base,
              MeasureOptions options, perf::ProgressFn progress)
      : client_(client),
        base_(std::move(base)),
        options_(std::move(options)),
        progress_(std::move(progress)) {}

  TrialFigures Run(const Candidate& candidate);

 private:
  // The measurement itself, once the configuration is READY.
  void Measure(const Candidate& candidate, TrialFigures* figures);

  ServerClient* client_;
  std::map<std::string, inference::ModelConfig> base_;
  MeasureOptions options_;
  perf::ProgressFn progress_;
};

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_TRIAL_RUNNER_H_
