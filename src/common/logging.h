// Process-wide logging on spdlog: text or JSON lines, level changeable at
// run time. Lines about a request carry its id as "[request <id>] ..." in
// text and as a "request_id" field in JSON. The optional access log (one
// line per inference request) is switched here too. Thread-safe.
#ifndef SERVAL_COMMON_LOGGING_H_
#define SERVAL_COMMON_LOGGING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "spdlog/spdlog.h"

namespace serval {

enum class LogFormat { kText, kJson };

// Configures the default logger (stderr). level: trace|debug|info|warn|error.
absl::Status InitLogging(std::string_view level, LogFormat format);
absl::Status SetLogLevel(std::string_view level);
std::string CurrentLogLevel();
// The position of a level name from trace (0) to off (5); -1 if unknown.
int LogLevelRank(std::string_view level);
LogFormat CurrentLogFormat();

// Logs `message` about request `request_id`.
void LogForRequest(spdlog::level::level_enum level, std::string_view request_id,
                   std::string_view message);

// Access log: off by default (serve --log-access).
void SetAccessLogEnabled(bool enabled);
bool AccessLogEnabled();
// One access-log line (info level): request id, model, version, status
// code name and server-side latency.
void LogAccess(std::string_view request_id, std::string_view model,
               int64_t version, const absl::Status& status,
               uint64_t latency_ns);

}  // namespace serval

#endif  // SERVAL_COMMON_LOGGING_H_
