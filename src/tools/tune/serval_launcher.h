// `serval tune --model-repository`: a serval of its own, started on free
// loopback ports in explicit model control mode and stopped (SIGTERM, then
// SIGKILL) when the tuner is done. Used from one thread.
#ifndef SERVAL_TOOLS_TUNE_SERVAL_LAUNCHER_H_
#define SERVAL_TOOLS_TUNE_SERVAL_LAUNCHER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace serval::tune {

struct LaunchOptions {
  std::string serval;  // the binary (this one)
  std::vector<std::string> repositories;
  std::vector<std::string> models;  // loaded at start-up
  std::string backend_directory;    // empty: the server's default
  std::string log_path;             // the server's stdout and stderr
  int start_timeout_s = 300;
};

class ServalProcess {
 public:
  static absl::StatusOr<ServalProcess> Start(const LaunchOptions& options);
  ServalProcess(ServalProcess&& o) noexcept { *this = std::move(o); }
  ServalProcess& operator=(ServalProcess&& o) noexcept;
  ~ServalProcess() { Stop(); }

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  void Stop();

 private:
  ServalProcess() = default;
  pid_t pid_ = -1;
  int http_port_ = 0;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
};

// A loopback TCP port nobody listens on right now.
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_SERVAL_LAUNCHER_H_
