// What `serval tune` asks of the server it tunes, over HTTP: the model
// configuration, loading a configuration through the load API's config
// override (a hot reload: no restart), readiness, the repository index,
// and the process figures on /metrics. Blocking calls; one thread.
#ifndef SERVAL_TOOLS_TUNE_SERVER_CLIENT_H_
#define SERVAL_TOOLS_TUNE_SERVER_CLIENT_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"

namespace serval::tune {

struct ProcessFigures {
  double resident_bytes = 0;
  double cpu_seconds = 0;
};

class ServerClient {
 public:
  // `metrics_port` 0: no metrics (RSS and CPU are not measured).
  ServerClient(std::string host, int http_port, std::string metrics_host,
               int metrics_port)
      : host_(std::move(host)),
        http_port_(http_port),
        metrics_host_(std::move(metrics_host)),
        metrics_port_(metrics_port) {}

  const std::string& host() const { return host_; }
  int http_port() const { return http_port_; }

  // The server is live and answers the KServe v2 protocol.
  absl::Status CheckLive();
  absl::StatusOr<inference::ModelConfig> GetConfig(const std::string& model);
  // Models with a READY version (repository index).
  absl::StatusOr<std::set<std::string>> ReadyModels();
  // Loads `model` with `config_json` replacing its config.pbtxt for this
  // load (empty: its repository's own). Returns once the server answered;
  // the server answers a load once the model is READY or has failed.
  absl::Status Load(const std::string& model, const std::string& config_json);
  absl::Status Unload(const std::string& model);
  absl::StatusOr<bool> Ready(const std::string& model);
  absl::StatusOr<ProcessFigures> Process();
  bool has_metrics() const { return metrics_port_ > 0; }

 private:
  std::string host_;
  int http_port_;
  std::string metrics_host_;
  int metrics_port_;
};

// The value of an unlabelled sample `name` in Prometheus text; nullopt-like
// NOT_FOUND when absent.
absl::StatusOr<double> PrometheusValue(const std::string& text,
                                       const std::string& name);

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_SERVER_CLIENT_H_
