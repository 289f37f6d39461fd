// `serval perf`: measures any KServe v2 server (serval, Triton, ...) from
// the client side, closed or open loop, with the server's own breakdown.
#ifndef SERVAL_TOOLS_PERF_PERF_COMMAND_H_
#define SERVAL_TOOLS_PERF_PERF_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace CLI {
class App;
}

namespace serval {

// Registers the subcommand; `exit_code` receives its result when it runs.
void AddPerfCommand(CLI::App* app, int* exit_code);

namespace perf {

// "[http://]host:port[/]" -> host and port (1-65535); the error names
// `flag`.
absl::Status ParseHostPort(const std::string& flag, const std::string& text,
                           std::string* host, int* port);

// "start[:end[:step]]" -> the values start, start+step, ... <= end.
absl::StatusOr<std::vector<double>> ParseRange(const std::string& text);

}  // namespace perf
}  // namespace serval

#endif  // SERVAL_TOOLS_PERF_PERF_COMMAND_H_
